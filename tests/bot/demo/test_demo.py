"""`backupcheck demo`: a first alert within five minutes, marked as a demo, in a loopback Slack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.demo.setup import SERVERS, bundled_snapshot, local_zone, prepare_demo
from bot.slack.app import build_app
from bot.storage.database import open_database
from checks.evaluate import evaluate
from checks.report import Status
from tests.bot.conftest import BACKUPCHECK, Clock, Run, eventually
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackChannel, SlackStandIn
from tests.support.slack_harness import socket_mode

CHANNEL = "C0DEMO"
# Half a minute past the hour: the window is rounded to a whole minute, the worst case for delay.
START = datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC)


def channel_messages(stand_in: SlackStandIn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top-level messages in the demo's channel, and thread replies."""
    messages = [m for (c, _), m in stand_in.messages.items() if c == CHANNEL]
    top = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
    return top, [m for m in messages if m not in top]


@pytest.fixture
def demo_bot(stand_in: SlackStandIn, tmp_path: Path) -> Iterator[tuple[Any, Clock]]:
    """The demo's config and files, wired as `serve --demo` wires them, on a clock of its own."""
    demo = prepare_demo(tmp_path, Config(), CHANNEL, START, "Asia/Tokyo")
    clock = Clock(START)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-bolt")
    # No collect= : the default reads each server's snapshot file, judged by the app's clock.
    app, services = build_app(
        demo.config,
        bot_token=BOT_TOKEN,
        api_url=stand_in.api_url,
        listener_pool=pool,
        sessions=open_database(demo.config.storage.url),
        clock=clock,
        demo=True,
    )
    assert services.alerting is not None
    try:
        with socket_mode(stand_in, app):
            stand_in.wait_connected()
            yield services.alerting, clock
    finally:
        services.checks.shutdown(wait=True)
        pool.shutdown(wait=True, cancel_futures=True)


def test_the_first_alert_is_posted_within_five_minutes_and_says_demo(
    stand_in: SlackStandIn, demo_bot: tuple[Any, Clock]
) -> None:
    alerting, clock = demo_bot
    posted_after = None
    for seconds in range(0, 5 * 60 + 1, 15):
        clock.now = START + timedelta(seconds=seconds)
        alerting.driver.run_due()
        alerting.outbox.deliver_due()
        if channel_messages(stand_in)[0]:
            posted_after = timedelta(seconds=seconds)
            break
    assert posted_after is not None, "no alert within five minutes"
    assert posted_after <= timedelta(minutes=3)

    top, replies = channel_messages(stand_in)
    by_server = {re.findall(r"\*(demo-[a-z0-9]+)\*", m["text"])[0]: m for m in top}
    # The critical and the warning server alert; the healthy one does not.
    assert set(by_server) == {"demo-fs01", "demo-sql01"}
    fs01 = by_server["demo-fs01"]
    assert fs01["text"].startswith("[DEMO] *demo-fs01*: D: has 235 MB free")
    assert fs01["blocks"][0]["type"] == "context"
    assert "*DEMO*: simulated servers from `backupcheck demo`" in str(fs01["blocks"][0])
    # Its details in the thread say so too.
    assert replies
    assert all(r["text"].startswith("[DEMO] ") for r in replies)
    assert all(r["blocks"][0]["type"] == "context" for r in replies if "blocks" in r)


def test_the_bundled_servers_are_critical_warning_and_ok(en: Any) -> None:
    statuses = [evaluate(bundled_snapshot(n), START, en).status for n in SERVERS]
    assert statuses == [Status.CRITICAL, Status.WARNING, Status.OK]


def test_the_window_is_set_in_the_servers_zone_and_the_files_are_current(tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path, Config(language="ja"), CHANNEL, START, "Asia/Tokyo")
    assert demo.window_at == datetime(2026, 11, 24, 19, 13, tzinfo=demo.window_at.tzinfo)
    assert demo.first_check_at - START == timedelta(minutes=2, seconds=30)
    assert demo.config.language == "ja"
    assert demo.config.alerts.channel == CHANNEL
    assert demo.config.slack.health_port == 0
    for server in demo.config.resolved():
        assert server.backup_times == ("19:13",)
        assert server.snapshot_file is not None
        assert os.path.getmtime(server.snapshot_file) == START.timestamp()


def test_the_local_zone_comes_from_tz_else_utc(tmp_path: Path) -> None:
    assert local_zone({"TZ": "Asia/Tokyo"}, tmp_path / "none") == "Asia/Tokyo"
    assert local_zone({"TZ": ":Europe/Paris"}, tmp_path / "none") == "Europe/Paris"
    assert local_zone({"TZ": "JST-9"}, tmp_path / "none") == "UTC"
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/America/New_York")
    assert local_zone({}, link) == "America/New_York"


@pytest.mark.parametrize(
    ("args", "env", "sentence"),
    [
        ((), {}, "the demo needs a channel to post its alerts to: pass --channel C…"),
        (("--channel", "#general"), {}, "--channel takes a channel ID such as C0123ABCD"),
        (("--channel", CHANNEL), {"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN is not set"),
        (("--channel", CHANNEL), {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN is not set"),
    ],
)
def test_without_a_channel_or_tokens_it_says_what_to_do(
    run: Run, args: tuple[str, ...], env: dict[str, str], sentence: str
) -> None:
    clean = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", **env}
    result = run("demo", *args, env=clean)
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert sentence in line


def test_ctrl_c_stops_the_demo_cleanly(stand_in: SlackStandIn, tmp_path: Path) -> None:
    stand_in.channels[CHANNEL] = SlackChannel(CHANNEL, "backup-demo")  # the bot is a member
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
        "TMPDIR": str(tmp_path),
    }
    environment.pop("BACKUPCHECK_CONFIG", None)
    process = subprocess.Popen(
        [str(BACKUPCHECK), "demo", "--channel", CHANNEL],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stand_in.wait_connected(timeout=30)  # a whole new process: imports, migrations
        eventually(lambda: any(tmp_path.glob("backupcheck-demo-*/demo.db")), timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Demo: demo-fs01, demo-sql01, demo-dc01 are simulated" in err
    assert "Every message is marked DEMO" in err
    assert err.strip().endswith("Demo stopped; its files and database are gone.")
    assert "Traceback" not in err
    assert not list(tmp_path.glob("backupcheck-demo-*"))


def test_a_wrong_token_is_told_as_doctor_tells_it(
    run: Run, stand_in: SlackStandIn, tmp_path: Path
) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-wrong",
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
    }
    result = run("demo", "--channel", CHANNEL, env=env)
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("backupcheck: cannot start: Slack bot token: Slack refused it: ")
    assert not list(tmp_path.glob("backupcheck-demo-*"))


def test_a_channel_slack_does_not_know_is_told_before_starting(
    run: Run, stand_in: SlackStandIn
) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
    }
    result = run("demo", "--channel", "C0NOSUCH", env=env)
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("backupcheck: cannot start: ")
    assert "C0NOSUCH" in line
