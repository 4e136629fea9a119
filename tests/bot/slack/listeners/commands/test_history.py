"""`/backupcheck history SERVER` over Socket Mode: the ack at once, then the last 14 backup
windows through the response URL, read from the bot's database (no server is contacted)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.conftest import AlertBot, Bot, alert_config, running_alert_bot
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn
from tests.support.slack_blocks import check_blocks
from tests.support.window_history import seed_windows

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def seeded(alert_bot: AlertBot) -> AlertBot:
    """16 evenings of fs01 before the simulated one (tests.support.window_history)."""
    seed_windows(alert_bot.alerting.service.history._sessions, days=16)
    return alert_bot


def _lines(blocks: list[dict[str, Any]]) -> list[str]:
    texts = [str((b.get("text") or {}).get("text", "")) for b in blocks if b["type"] == "section"]
    return "\n".join(texts).splitlines()


def test_the_last_fourteen_windows_newest_first(seeded: AlertBot, stand_in: SlackStandIn) -> None:
    ack = stand_in.deliver_slash_command(text="history fs01").wait_ack(3.0)
    assert ack.payload == {"text": "Reading fs01's backup windows…"}
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["response_type"] == "ephemeral"
    check_blocks(answer.body["blocks"])
    header = answer.body["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "fs01: the last 14 backup windows (times in JST)"
    lines = _lines(answer.body["blocks"])
    assert len(lines) == 14
    assert lines[0].startswith("*Nov 23, 2026, 9:00:00\u202fPM JST*: pre-check OK; backup failed: ")
    assert "0x800423F4" in lines[0]
    assert "acknowledged: —" in lines[0]
    assert lines[1].startswith(
        "*Nov 22, 2026, 9:00:00\u202fPM JST*: pre-check CRITICAL; backup failed: 0x80780119, "
    )
    assert "acknowledged: <@U456> after 10 min; space freed: —" in lines[1]
    assert lines[2] == (
        "*Nov 21, 2026, 9:00:00\u202fPM JST*: pre-check OK; backup succeeded; "
        "acknowledged: <@U123> after 25 min; space freed: 4.8 GB"
    )
    assert lines[-1].startswith("*Nov 10, 2026, 9:00:00\u202fPM JST*")
    assert seeded.fleet.http_requests_for("fs01") == 0  # read from the database, not checked


def test_public_posts_in_the_channel(seeded: AlertBot, stand_in: SlackStandIn) -> None:
    stand_in.deliver_slash_command(text="history fs01 public").wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["response_type"] == "in_channel"


def test_a_server_without_verified_windows_says_so(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    stand_in.deliver_slash_command(text="history fs01").wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["text"] == (
        "There are no verified backup windows for fs01 yet: the bot records one after each "
        "window it verifies."
    )


def test_an_unknown_server_is_refused_in_the_ack(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    ack = stand_in.deliver_slash_command(text="history fs1").wait_ack(3.0)
    assert ack.payload == {"text": "unknown server 'fs1'. Did you mean fs01?"}


def test_history_without_scheduled_alerts_says_none_is_kept(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    ack = stand_in.deliver_slash_command(text="history fs01").wait_ack(3.0)
    assert ack.payload == {
        "text": "The history needs the bot's database: scheduled alerts (alerts.channel) are "
        "not set up, so no backup window is verified."
    }


def test_a_user_who_may_not_run_checks_cannot_tell_which_servers_exist(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    config = alert_config(evening_fleet)
    slack = config.slack.model_copy(update={"allowed_users": ["U999"]})
    config = config.model_copy(update={"slack": slack})
    with running_alert_bot(stand_in, evening_fleet, database_url, config):
        answers = [
            stand_in.deliver_slash_command(text=text, user_id="U123").wait_ack(3.0).payload
            for text in ("history fs01", "history nosuch")
        ]
    assert answers[0] == answers[1]
    assert str(answers[0]).startswith("{'text': 'You are not allowed to run backupcheck here.")
