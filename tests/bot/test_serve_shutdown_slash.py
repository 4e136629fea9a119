"""SIGTERM to a real `serve --mode http` while a check asked for in Slack hangs on a slow host:
the process exits within alerts.shutdown_grace_s and a small margin, not when the host answers."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import yaml

from tests.bot.conftest import SIGNING_SECRET
from tests.support.replicas import Replica, copied_fleet, failing, wait_until, write_config
from tests.support.slack_api import SlackStandIn
from tests.support.slack_signing import post, sign, slash_command_body

GRACE_S = 2
SLOW_MS = 20_000  # per request: the check would take minutes
EXIT_MARGIN_S = 8  # the interpreter's exit and Slack's close, on a busy machine

pytestmark = pytest.mark.timeout(120)


def test_sigterm_leaves_a_hanging_slash_check_behind_after_the_grace(
    stand_in: SlackStandIn, tmp_path: Path
) -> None:
    with copied_fleet(1, 0, SLOW_MS) as fleet:
        config = write_config(tmp_path / "backupcheck.yaml", fleet, "sqlite:///unused.db", 10, 1)
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        # No alerts channel: no scheduler, so the only check is the one asked for in Slack.
        document["alerts"] = {"shutdown_grace_s": GRACE_S}
        document["defaults"] |= {"deadline_s": 300, "read_timeout_s": 60}
        config.write_text(yaml.safe_dump(document), encoding="utf-8")
        bot = Replica(config, stand_in, tmp_path, "bot", signing_secret=SIGNING_SECRET)
        try:
            bot.wait_listening()
            body = slash_command_body(text=failing(0), response_url=stand_in.response_url())
            assert post(bot.url, body, sign(SIGNING_SECRET, body))[0] == 200
            wait_until(lambda: fleet.http_requests_for(failing(0)) > 0, 30, "the check started")
            asked = time.monotonic()
            bot.process.send_signal(signal.SIGTERM)
            code = bot.process.wait(timeout=GRACE_S + EXIT_MARGIN_S + 30)
            took = time.monotonic() - asked
        finally:
            bot.ensure_gone()
        assert code == 0, bot.output()
        assert took < GRACE_S + EXIT_MARGIN_S, f"exited {took:.1f} s after SIGTERM"
        assert "Traceback" not in bot.output()
