"""A simulated evening, end to end: the loopback Windows host, the scheduler's decisions with
time injected, the bot over Socket Mode, the outbox and the loopback Slack.

fs01 backs up at 21:00 (Tokyo). The 20:00 check posts the alert; nobody acknowledges, so it
escalates by itself at 20:20; a person types `ack` in the thread; the host gets fixed; the
20:45 re-check resolves it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage.models import AlertEvent, CheckResult
from checks.units import GB
from tests.bot.conftest import ALERT_CHANNEL, ON_CALL, AlertBot, eventually
from tests.conftest import PROFILES
from tests.support.fleet_profiles import HostProfile
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(90)


def fixed(profile: HostProfile, letter: str, free_bytes: int) -> HostProfile:
    """The same host after someone freed space on one volume."""
    snapshot = json.loads(profile.snapshot)
    for volume in snapshot["volumes"]:
        if volume.get("letter") == letter:
            volume["free_bytes"] = free_bytes
    return profile.model_copy(update={"snapshot": json.dumps(snapshot).encode("utf-8")})


def channel_messages(stand_in: SlackStandIn) -> list[dict[str, Any]]:
    return [m for (c, _), m in stand_in.messages.items() if c == ALERT_CHANNEL]


def the_alert(stand_in: SlackStandIn) -> tuple[dict[str, Any], list[str]]:
    """The one top-level message in the alert channel, and the texts of its thread."""
    messages = channel_messages(stand_in)
    (top,) = [m for m in messages if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
    replies = sorted(
        (m for m in messages if m.get("thread_ts") == top["ts"] and m["ts"] != top["ts"]),
        key=lambda m: float(m["ts"]),
    )
    return top, [str(m.get("text", "")) for m in replies]


def test_the_evening_from_first_check_to_resolution(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    driver, service, outbox = (
        alert_bot.alerting.driver,
        alert_bot.alerting.service,
        alert_bot.alerting.outbox,
    )
    assert driver.run_due() == []  # 19:00: nothing is due yet

    alert_bot.clock.set(20, 0)
    assert [j.kind for j in driver.run_due()] == ["check"]
    outbox.deliver_due()
    top, replies = the_alert(stand_in)
    assert top["text"].startswith("*fs01*: D: has 235 MB free")
    assert "The backup runs at Nov 24, 2026, 9:00:00" in top["text"]
    assert "Nobody has acknowledged this alert yet." in str(top["blocks"])
    assert len(replies) == 1  # the per-volume details and tips
    assert "Free at least 85 MB on D:" in str(channel_messages(stand_in))

    alert_bot.clock.set(20, 10)
    assert service.escalate_due() == 0
    alert_bot.clock.set(20, 20)
    assert service.escalate_due() == 1
    outbox.deliver_due()
    top, replies = the_alert(stand_in)
    assert replies[-1] == f"Escalated to <!subteam^{ON_CALL}>: nobody has taken this alert yet."
    assert "Escalated automatically at Nov 24, 2026, 8:20:00" in str(top["blocks"])

    alert_bot.clock.set(20, 25)
    stand_in.deliver_event(
        {
            "type": "message",
            "channel": ALERT_CHANNEL,
            "user": "U123",
            "text": "ack",
            "ts": "1795000000.000100",
            "thread_ts": top["ts"],
        }
    ).wait_ack()
    eventually(lambda: "Acknowledged by <@U123>" in str(the_alert(stand_in)[0]["blocks"]))

    alert_bot.fleet.set_profile("fs01", fixed(PROFILES["fs01"], "D:", 5 * GB))
    alert_bot.clock.set(20, 45)
    assert [j.kind for j in driver.run_due()] == ["recheck"]
    outbox.deliver_due()
    top, replies = the_alert(stand_in)
    context = str(top["blocks"])
    assert "Resolved at Nov 24, 2026, 8:45:00" in context
    assert "Acknowledged by <@U123> at Nov 24, 2026, 8:25:00" in context
    assert "actions" not in [b["type"] for b in top["blocks"]]  # no buttons once resolved
    assert replies[1:] == [
        f"Escalated to <!subteam^{ON_CALL}>: nobody has taken this alert yet.",
        "Acknowledged by <@U123> at Nov 24, 2026, 8:25:00\u202fPM JST. "
        "Escalated automatically at Nov 24, 2026, 8:20:00\u202fPM JST.",
        "Resolved at Nov 24, 2026, 8:45:00\u202fPM JST: D: now has 5 GB free.",
    ]
    assert driver.run_due() == []  # 20:45: nothing more before the window

    # The audit trail and the history of each volume are in the database.
    sessions = alert_bot.alerting.service.history._sessions
    with sessions() as session:
        events = session.scalars(select(AlertEvent).order_by(AlertEvent.id)).all()
        assert [(e.kind, e.actor) for e in events] == [
            ("checked", None),
            ("escalate", "auto"),
            ("acknowledge", "U123"),
            ("checked", None),
        ]
        d_free = session.scalars(
            select(CheckResult.free_bytes)
            .where(CheckResult.volume_name.like("D:%"))
            .order_by(CheckResult.id)
        ).all()
        assert d_free == [246415360, 5 * GB]


def test_a_slack_outage_delays_the_alert_but_it_arrives_once(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    stand_in.queue_response("chat.postMessage", status=503, times=3)
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "30"}, times=2)
    alert_bot.clock.set(20, 0)
    alert_bot.alerting.driver.run_due()
    outbox = alert_bot.alerting.outbox
    delivered: list[str] = []
    for minute in range(0, 15):
        alert_bot.clock.set(20, minute)
        delivered += [d.state for d in outbox.deliver_due()]
    top, replies = the_alert(stand_in)
    assert top["text"].startswith("*fs01*: D: has 235 MB free")
    assert len(replies) == 1
    assert delivered.count("sent") == 2  # the alert and its details, once each
    assert len(stand_in.calls("chat.postMessage")) == 5 + 2  # five refusals, then both
