"""`backupcheck serve` with alerts, as a real process: a check missed while it was down runs
at start-up, and a kill -9 while posting the alert still leaves exactly one alert in Slack."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bot.conftest import ALERT_CHANNEL, BACKUPCHECK, Run
from tests.conftest import PASSWORD, USER
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(120)


def write_config(tmp_path: Path, fleet: SimulatedFleet, database: str, **settings: Any) -> Path:
    """fs01's window 20 minutes from now (UTC), checked 30 minutes before: 10 minutes ago."""
    window = (datetime.now(UTC) + timedelta(minutes=20)).strftime("%H:%M")
    address, port = fleet.address_of("fs01")
    config = {
        "defaults": {
            "credential": "reader",
            "connect_timeout_s": 2,
            "operation_timeout_s": 2,
            "read_timeout_s": 4,
            "deadline_s": 10,
        },
        "credentials": {"reader": {"username": USER, "password_env": "WINRM_PASSWORD"}},
        "servers": [
            {
                "name": "fs01",
                "address": address,
                "port": port,
                "backup_times": [window],
                "timezone": "UTC",
                "lead_time_min": 30,
            }
        ],
        "alerts": {"channel": ALERT_CHANNEL, "jitter_s": 0, "misfire_grace_min": 30},
        # The tests follow the check before the window; surveys would run first.
        "forecast": {"enabled": False},
        "storage": {"url": database},
        # No health endpoint unless a test asks for one: the default port may be taken.
        "slack": {"health_port": 0},
        **settings,
    }
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start(
    config: Path, stand_in: SlackStandIn, tmp_path: Path, token_file: Path | None = None
) -> subprocess.Popen[str]:
    """`backupcheck serve`; with token_file, the bot token comes from it (Docker secrets)."""
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
        "WINRM_PASSWORD": PASSWORD,
    }
    if token_file is not None:
        token_file.write_text(BOT_TOKEN + "\n", encoding="utf-8")
        del environment["SLACK_BOT_TOKEN"]
        environment["SLACK_BOT_TOKEN_FILE"] = str(token_file)
    return subprocess.Popen(
        [str(BACKUPCHECK), "serve", "--config", str(config)],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def alert_messages(stand_in: SlackStandIn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top-level messages in the alert channel, and thread replies."""
    messages = [m for (c, _), m in stand_in.messages.items() if c == ALERT_CHANNEL]
    top = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
    return top, [m for m in messages if m not in top]


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the bot did not get there in time"
        time.sleep(0.05)


def test_killed_while_posting_the_alert_then_restarted_posts_it_once(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, evening_fleet, database_url)
    # Slack takes the post but the answer never reaches the bot before it dies.
    stand_in.queue_response("chat.postMessage", hold=8)
    first = start(config, stand_in, tmp_path)
    try:
        stand_in.wait_for("chat.postMessage", timeout=30)
        wait_until(lambda: len(alert_messages(stand_in)[0]) == 1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    second = start(config, stand_in, tmp_path)
    try:
        # The missed check runs again at start-up; the outbox finds the post it made and only
        # then posts the details into its thread.
        wait_until(lambda: len(alert_messages(stand_in)[1]) >= 1)
        top, replies = alert_messages(stand_in)
        assert len(top) == 1
        assert top[0]["text"].startswith("*fs01*: D: has 235 MB free")
        assert [r["thread_ts"] for r in replies] == [top[0]["ts"]]
    finally:
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=30)
    assert second.returncode == 0, output
    assert "received signal 15, stopping" in output
    assert PASSWORD not in output
    assert BOT_TOKEN not in output


def test_a_full_run_logs_json_with_ids_answers_health_and_never_logs_a_secret(
    stand_in: SlackStandIn,
    evening_fleet: SimulatedFleet,
    database_url: str,
    tmp_path: Path,
    run: Run,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        health_port = probe.getsockname()[1]
    config = write_config(
        tmp_path,
        evening_fleet,
        database_url,
        log_format="json",
        slack={"health_port": health_port},
    )
    bot = start(config, stand_in, tmp_path, token_file=tmp_path / "slack_bot_token")
    try:
        wait_until(lambda: len(alert_messages(stand_in)[1]) >= 1)
        health = run("health", "--config", str(config))
        assert (health.returncode, health.stdout.strip()) == (
            0,
            "healthy: Slack connected, scheduler running.",
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, output
    for secret in (PASSWORD, BOT_TOKEN, APP_TOKEN):
        assert secret not in output
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    checked = [e for e in entries if e.get("host") == "fs01" and "check_id" in e]
    assert checked
    assert checked[0]["check_id"].startswith("check:fs01:")
    assert any("alert_id" in e and e.get("host") == "fs01" for e in entries)
    assert any(e["message"] == "received signal 15, stopping" for e in entries)
