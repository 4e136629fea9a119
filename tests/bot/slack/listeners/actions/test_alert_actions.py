"""The alert's controls: each press changes the one alert message and says so in its thread;
only responders may press them, and a value from Slack never reaches a host outside the
inventory."""

from __future__ import annotations

from typing import Any

import pytest

from bot.alerts.message import (
    ACK_ACTION,
    ALERT_RECHECK_ACTION,
    ESCALATE_ACTION,
    SILENCE_ACTION,
    UNACK_ACTION,
    UNSILENCE_ACTION,
)
from tests.bot.conftest import (
    ALERT_CHANNEL,
    ON_CALL,
    AlertBot,
    control,
    eventually,
    open_alert,
    running_alert_bot,
)
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(60)


def current(stand_in: SlackStandIn, ts: str) -> dict[str, Any]:
    message: dict[str, Any] = stand_in.messages[(ALERT_CHANNEL, ts)]
    return message


def thread(stand_in: SlackStandIn, ts: str) -> list[str]:
    replies = [
        m
        for (channel, _), m in stand_in.messages.items()
        if channel == ALERT_CHANNEL and m.get("thread_ts") == ts and m["ts"] != ts
    ]
    return [str(m.get("text", "")) for m in sorted(replies, key=lambda m: float(m["ts"]))]


def press(
    stand_in: SlackStandIn, top: dict[str, Any], action_id: str, user: str = "U123", **extra: Any
) -> str:
    """Press a control of the alert message; returns the response_url the bot may answer on."""
    url = stand_in.response_url()
    value = control(top, action_id).get("value", "")
    stand_in.deliver_block_action(
        action_id,
        value=value,
        user_id=user,
        channel_id=ALERT_CHANNEL,
        message_ts=top["ts"],
        response_url=url,
        **extra,
    ).wait_ack(3.0)
    return url


def test_acknowledge_then_unacknowledge_from_the_buttons(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    alert_bot.clock.set(20, 5)
    press(stand_in, top, ACK_ACTION)
    eventually(lambda: "Acknowledged by <@U123>" in str(current(stand_in, top["ts"])["blocks"]))
    taken = current(stand_in, top["ts"])
    assert control(taken, UNACK_ACTION)["text"]["text"] == "Unacknowledge"
    assert thread(stand_in, top["ts"])[-1].startswith("Acknowledged by <@U123> at Nov 24, 2026")

    alert_bot.clock.set(20, 6)
    press(stand_in, taken, UNACK_ACTION)
    eventually(lambda: "Nobody has acknowledged" in str(current(stand_in, top["ts"])["blocks"]))
    # Released, the alert escalates by itself again when it is due.
    alert_bot.clock.set(20, 20)
    assert alert_bot.alerting.service.escalate_due() == 1


def test_escalate_mentions_the_on_call_group_and_removes_the_button(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    press(stand_in, top, ESCALATE_ACTION)
    eventually(lambda: "Escalated by <@U123>" in str(current(stand_in, top["ts"])["blocks"]))
    assert f"<!subteam^{ON_CALL}>" in thread(stand_in, top["ts"])[-1]
    actions = [
        e["action_id"]
        for b in current(stand_in, top["ts"])["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert ESCALATE_ACTION not in actions


def test_silence_for_24_hours_then_unsilence(alert_bot: AlertBot, stand_in: SlackStandIn) -> None:
    top = open_alert(alert_bot, stand_in)
    menu = control(top, SILENCE_ACTION)
    day = next(o["value"] for o in menu["options"] if o["value"].endswith("|24h"))
    url = stand_in.response_url()
    stand_in.deliver_block_action(
        SILENCE_ACTION,
        user_id="U123",
        channel_id=ALERT_CHANNEL,
        message_ts=top["ts"],
        response_url=url,
        selected=day,
    ).wait_ack(3.0)
    eventually(
        lambda: (
            "Silenced by <@U123> until Nov 25, 2026, 8:00:00"
            in str(current(stand_in, top["ts"])["blocks"])
        )
    )
    # Silenced alerts do not escalate by themselves.
    alert_bot.clock.set(20, 40)
    assert alert_bot.alerting.service.escalate_due() == 0

    press(stand_in, current(stand_in, top["ts"]), UNSILENCE_ACTION)
    eventually(lambda: "<@U123> lifted the silence." in thread(stand_in, top["ts"]))
    assert alert_bot.alerting.service.escalate_due() == 1


def test_re_check_from_the_alert_updates_the_alert_not_a_private_reply(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    alert_bot.clock.set(20, 10)
    press(stand_in, top, ALERT_RECHECK_ACTION)
    # Same findings: no new message, no edit; the check is recorded in the history.
    history = alert_bot.alerting.service.history
    eventually(lambda: len({r.checked_at for r in history.of("fs01")}) == 2)
    assert len(thread(stand_in, top["ts"])) == 1  # only the details
    assert stand_in.responses() == []


def test_only_responders_may_act_and_others_are_told_privately(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    with running_alert_bot(stand_in, evening_fleet, database_url, responder_users=["U999"]) as bot:
        top = open_alert(bot, stand_in)
        url = press(stand_in, top, ACK_ACTION, user="U123")
        (answer,) = stand_in.wait_for_response(1, timeout=10, id=url.rsplit("/", 1)[-1])
        assert answer.body is not None
        assert answer.body["response_type"] == "ephemeral"
        assert answer.body["text"].startswith("You may not acknowledge, escalate or silence")
        assert "Nobody has acknowledged" in str(current(stand_in, top["ts"])["blocks"])

        press(stand_in, top, ACK_ACTION, user="U999")
        eventually(lambda: "Acknowledged by <@U999>" in str(current(stand_in, top["ts"])["blocks"]))


def test_a_forged_value_naming_another_host_contacts_nothing(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    checks_before = len(alert_bot.alerting.service.history.of("fs01"))
    url = stand_in.response_url()
    stand_in.deliver_block_action(
        ALERT_RECHECK_ACTION,
        value="evil.example|2026-11-24T21:00:00+09:00",
        channel_id=ALERT_CHANNEL,
        message_ts=top["ts"],
        response_url=url,
    ).wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=10)
    assert answer.body is not None
    assert (
        answer.body["text"] == "unknown server 'evil.example': it is not in the config's servers."
    )
    assert len(alert_bot.alerting.service.history.of("fs01")) == checks_before
