"""`ack` and `escalate` typed in an alert's thread work like its buttons; other talk is ignored."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from bot.alerts.service import Action
from bot.slack.listeners.events.thread_replies import reply_action
from tests.bot.conftest import ALERT_CHANNEL, AlertBot, eventually, open_alert, running_alert_bot
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(60)


def reply(
    stand_in: SlackStandIn, thread_ts: str, text: str, user: str = "U123", **extra: str
) -> None:
    event = {
        "type": "message",
        "channel": ALERT_CHANNEL,
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        "thread_ts": thread_ts,
        **extra,
    }
    stand_in.deliver_event(event).wait_ack()


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("ack", Action.ACKNOWLEDGE),
        ("ACK", Action.ACKNOWLEDGE),
        ("<@U0BOT> ack", Action.ACKNOWLEDGE),
        ("対応", Action.ACKNOWLEDGE),
        ("escalate!", Action.ESCALATE),
        ("unack", Action.UNACKNOWLEDGE),
        ("ack, looking at it", None),
        ("we should ack this", None),
        ("", None),
    ],
)
def test_one_word_asks_for_an_action_and_a_sentence_does_not(
    text: str, action: Action | None
) -> None:
    assert reply_action(text) is action


def test_ack_in_the_thread_acknowledges(alert_bot: AlertBot, stand_in: SlackStandIn) -> None:
    top = open_alert(alert_bot, stand_in)
    reply(stand_in, top["ts"], "looking now")  # conversation: nothing happens
    reply(stand_in, top["ts"], "ack")
    eventually(
        lambda: (
            "Acknowledged by <@U123>"
            in str(stand_in.messages[(ALERT_CHANNEL, top["ts"])]["blocks"])
        )
    )
    stored = alert_bot.alerting.service.alerts.find("fs01", top_window(alert_bot))
    assert stored is not None
    assert stored.alert.acknowledged_by == "U123"


def test_bots_and_edits_are_ignored(alert_bot: AlertBot, stand_in: SlackStandIn) -> None:
    top = open_alert(alert_bot, stand_in)
    reply(stand_in, top["ts"], "ack", bot_id="B0OTHER")
    reply(stand_in, top["ts"], "ack", subtype="message_changed")
    time.sleep(0.5)
    stored = alert_bot.alerting.service.alerts.find("fs01", top_window(alert_bot))
    assert stored is not None
    assert stored.alert.acknowledged_by is None


def test_someone_not_permitted_is_told_privately(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    with running_alert_bot(stand_in, evening_fleet, database_url, responder_users=["U999"]) as bot:
        top = open_alert(bot, stand_in)
        reply(stand_in, top["ts"], "escalate")
        (refusal,) = stand_in.wait_for("chat.postEphemeral")
        assert refusal.params["user"] == "U123"
        assert refusal.params["thread_ts"] == top["ts"]
        assert str(refusal.params["text"]).startswith("You may not acknowledge, escalate")
        stored = bot.alerting.service.alerts.find("fs01", top_window(bot))
        assert stored is not None
    assert stored.alert.escalated_at is None


def top_window(bot: AlertBot) -> datetime:
    """fs01's window tonight, as the scheduler planned it."""
    (window,) = {w for w in bot.alerting.driver.plan(give_up=False).windows.values() if w}
    return window
