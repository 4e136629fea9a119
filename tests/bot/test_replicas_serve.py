"""Two real `serve` processes on one PostgreSQL database: each due check runs once, each alert
message is posted once, with its details in its thread."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.bot.test_serve_alerts import alert_messages, start, wait_until, write_config
from tests.support.fleet import SimulatedFleet
from tests.support.replicas import settled
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_replicas_check_once_and_post_once(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, evening_fleet, database_url)
    replicas = [start(config, stand_in, tmp_path), start(config, stand_in, tmp_path)]
    try:
        wait_until(lambda: len(alert_messages(stand_in)[1]) >= 1, timeout=60)
        wait_until(lambda: settled(database_url, checks=1), timeout=60)
        top, replies = alert_messages(stand_in)
        assert len(top) == 1
        assert top[0]["text"].startswith("*fs01*: D: has 235 MB free")
        assert [r["thread_ts"] for r in replies] == [top[0]["ts"]]
        # One WinRM shell for the one due check, whichever replica ran it.
        assert evening_fleet.actions_for("fs01").count("Create") == 1
    finally:
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        outputs = [replica.communicate(timeout=60)[0] for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs)
