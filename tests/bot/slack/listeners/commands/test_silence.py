"""`/backupcheck silence SERVER DURATION`, `unsilence SERVER`, and `windows` from the plan."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.conftest import AlertBot, Bot, open_alert
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(60)


def _text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(str((b.get("text") or {}).get("text", "")) for b in blocks)


def test_a_silenced_server_is_checked_but_posts_no_alert(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    ack = stand_in.deliver_slash_command(text="silence FS01 12h").wait_ack(3.0)
    assert ack.payload == {
        "text": "fs01 is silenced until Nov 25, 2026, 7:00:00\u202fAM JST: it is still checked, "
        "but posts no alerts."
    }
    alert_bot.clock.set(20, 0)
    assert [j.kind for j in alert_bot.alerting.driver.run_due()] == ["check"]
    alert_bot.alerting.outbox.deliver_due()
    assert stand_in.calls("chat.postMessage") == []
    assert len(alert_bot.alerting.service.history.of("fs01")) == 3  # C:, D:, E: stored

    windows = stand_in.deliver_slash_command(text="windows").wait_ack(3.0)
    assert windows.payload is not None
    (answer,) = stand_in.wait_for_response(1, timeout=10)
    assert answer.body is not None
    assert "silenced by <@U123> until Nov 25, 2026, 7:00:00" in _text(answer.body["blocks"])

    done = stand_in.deliver_slash_command(text="unsilence fs01").wait_ack(3.0)
    assert done.payload == {"text": "fs01 is no longer silenced."}
    again = stand_in.deliver_slash_command(text="unsilence fs01").wait_ack(3.0)
    assert again.payload == {"text": "fs01 was not silenced."}


def test_windows_come_from_the_plan_without_contacting_the_servers(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    ack = stand_in.deliver_slash_command(text="windows").wait_ack(3.0)
    assert ack.payload == {"text": "Reading the backup windows from the schedule…"}
    (answer,) = stand_in.wait_for_response(1, timeout=10)
    assert answer.body is not None
    text = _text(answer.body["blocks"])
    # In the server's own time zone (Tokyo).
    assert "*fs01*  next backup Nov 24, 2026, 9:00:00\u202fPM JST" in text
    assert "check at Nov 24, 2026, 8:00:00\u202fPM JST" in text
    assert alert_bot.fleet.http_requests_for("fs01") == 0


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            "silence fs01 forever",
            "'forever' is not a duration: use minutes, hours or days, such as 90m, 12h or 7d "
            "(at most 30d).",
        ),
        (
            "silence fs01 31d",
            "'31d' is not a duration: use minutes, hours or days, such as 90m, "
            "12h or 7d (at most 30d).",
        ),
        ("silence fs1 2h", "unknown server 'fs1'. Did you mean fs01?"),
        (
            "unsilence evil.example",
            "unknown server 'evil.example': it is not in the config's servers.",
        ),
    ],
)
def test_bad_silences_are_answered_in_one_sentence(
    alert_bot: AlertBot, stand_in: SlackStandIn, text: str, answer: str
) -> None:
    ack = stand_in.deliver_slash_command(text=text).wait_ack(3.0)
    assert ack.payload == {"text": answer}
    assert alert_bot.alerting.service.silences.active(alert_bot.clock()) == {}


def test_silence_without_scheduled_alerts_says_so(stand_in: SlackStandIn, socket_bot: Bot) -> None:
    ack = stand_in.deliver_slash_command(text="silence fs01 2h").wait_ack(3.0)
    assert ack.payload == {
        "text": "Scheduled alerts are not set up (alerts.channel in the config), so there is "
        "nothing to silence."
    }


def test_silencing_a_server_with_an_open_alert_shows_it_on_the_alert(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    stand_in.deliver_slash_command(text="silence fs01 90m").wait_ack(3.0)
    alert_bot.alerting.outbox.deliver_due()
    edited = stand_in.messages[("C123", top["ts"])]
    assert "Silenced by <@U123> until Nov 24, 2026, 9:30:00" in str(edited["blocks"])
