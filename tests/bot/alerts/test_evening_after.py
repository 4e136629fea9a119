"""The simulated evening past the window: the loopback Windows host, the scheduler's decisions
with time injected, the bot over Socket Mode, the outbox and the loopback Slack.

fs01 backs up at 21:00 (Tokyo). From 21:10 the bot reads it every 5 minutes: the backup runs
for a while, then succeeds or fails, or never starts; the verdict goes in the window's alert
thread, or in a new alert when it needs someone and no alert is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.service import Action
from bot.storage.models import AlertEvent, WindowOutcome
from checks.units import GB
from tests.bot.alerts.test_evening import channel_messages, fixed, the_alert
from tests.bot.conftest import ALERT_CHANNEL, EVENING, AlertBot, eventually, running_alert_bot
from tests.conftest import PROFILES
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(120)
WINDOW = EVENING.replace(hour=21)
FINE = fixed(PROFILES["fs01"], "D:", 5 * GB)  # enough free space before the window


def probes(bot: AlertBot) -> int:
    """How many times the bot ran the probe on fs01."""
    return bot.fleet.actions_for("fs01").count("Command")


def outcomes(bot: AlertBot) -> list[tuple[str | None, str, bool]]:
    """(pre-check, verdict, has an alert) of each stored window outcome."""
    with bot.alerting.service.history._sessions() as session:
        rows = session.scalars(select(WindowOutcome).order_by(WindowOutcome.id)).all()
        return [(r.precheck, r.kind, r.alert_id is not None) for r in rows]


def read_at(bot: AlertBot, hour: int, minute: int) -> list[str]:
    """Move to hour:minute and run what is due, then deliver: the kinds that were due."""
    bot.clock.set(hour, minute)
    kinds = [job.kind for job in bot.alerting.driver.run_due()]
    bot.alerting.outbox.deliver_due()
    return kinds


@pytest.fixture
def fine_bot(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[AlertBot]:
    """The bot at 19:00, with fs01 healthy: the 20:00 check posts nothing."""
    evening_fleet.set_profile("fs01", FINE)
    with running_alert_bot(stand_in, evening_fleet, database_url) as running:
        yield running


def test_the_evening_ends_with_the_backup_verified_in_the_alerts_thread(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    assert read_at(alert_bot, 20, 0) == ["check"]
    top, _ = the_alert(stand_in)
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
    alert_bot.fleet.set_profile("fs01", FINE)
    assert read_at(alert_bot, 20, 45) == ["recheck"]
    replies_before = the_alert(stand_in)[1]
    assert replies_before[-1].startswith("Resolved at Nov 24, 2026, 8:45:00")

    # 21:05: the backup has started; the first reading is due at 21:10.
    assert read_at(alert_bot, 21, 5) == []
    alert_bot.fleet.set_profile("fs01", PROFILES["outcome-running"])
    for minute in (10, 15, 20):
        assert read_at(alert_bot, 21, minute) == ["verify"]
    assert read_at(alert_bot, 21, 22) == ["verify"]  # planned, but held until 21:25: not read
    assert probes(alert_bot) == 2 + 3
    assert the_alert(stand_in)[1] == replies_before  # nothing said while it runs

    alert_bot.fleet.set_profile("fs01", PROFILES["outcome-succeeded"])
    assert read_at(alert_bot, 21, 45) == ["verify"]
    top, replies = the_alert(stand_in)
    verified = (
        "The backup at Nov 24, 2026, 9:00:00\u202fPM JST succeeded "
        "(finished Nov 24, 2026, 9:41:37\u202fPM JST)."
    )
    assert replies[len(replies_before) :] == [verified]
    assert top["text"] == f"*fs01*: {verified}"
    context = str(top["blocks"])
    assert "Resolved at Nov 24, 2026, 8:45:00" in context  # by the re-check, before the window
    assert "Acknowledged by <@U123>" in context
    assert "actions" not in [b["type"] for b in top["blocks"]]
    assert read_at(alert_bot, 21, 50) == []  # verified: not read again
    assert probes(alert_bot) == 2 + 4
    assert outcomes(alert_bot) == [("ok", "succeeded", True)]
    (stored,) = alert_bot.alerting.driver.verifier.outcomes.of("fs01")
    assert (stored.acknowledged_by, stored.acknowledged_after) == ("U123", timedelta(minutes=25))
    with alert_bot.alerting.service.history._sessions() as session:
        kinds = session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)).all()
    assert kinds == ["checked", "acknowledge", "checked", "verified"]


def test_a_failure_with_no_alert_opens_one_with_the_codes_meaning(
    fine_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    assert read_at(fine_bot, 20, 0) == ["check"]
    assert channel_messages(stand_in) == []
    fine_bot.fleet.set_profile("fs01", PROFILES["outcome-running"])
    assert read_at(fine_bot, 21, 10) == ["verify"]
    assert read_at(fine_bot, 21, 15) == ["verify"]
    assert channel_messages(stand_in) == []
    fine_bot.fleet.set_profile("fs01", PROFILES["outcome-failed-vss-space"])
    assert read_at(fine_bot, 21, 20) == ["verify"]
    top, replies = the_alert(stand_in)
    failed = (
        "The backup at Nov 24, 2026, 9:00:00\u202fPM JST failed: 0x80780119, there is not "
        "enough disk space to create the volume shadow copy on a backed-up volume."
    )
    assert top["text"] == f"*fs01*: {failed}"
    assert "Nobody has acknowledged this alert yet." in str(top["blocks"])
    actions = next(b for b in top["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]][:2] == ["alert_ack", "alert_escalate"]
    (reply,) = replies
    assert reply.startswith(failed + "\nWhat to do: Free space on every volume in the backup")
    assert outcomes(fine_bot) == [("ok", "failed", True)]

    # The same lifecycle: someone acknowledges it.
    service = fine_bot.alerting.service
    assert service.act("fs01", WINDOW, Action.ACKNOWLEDGE, "U123").changed
    fine_bot.alerting.outbox.deliver_due()
    top, replies = the_alert(stand_in)
    assert "Acknowledged by <@U123> at Nov 24, 2026, 9:20:00" in str(top["blocks"])
    assert top["text"] == f"*fs01*: {failed}"  # still says how the backup went
    assert read_at(fine_bot, 21, 30) == []


def test_a_failure_nobody_acknowledges_escalates_though_its_window_has_passed(
    fine_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    assert read_at(fine_bot, 20, 0) == ["check"]
    fine_bot.fleet.set_profile("fs01", PROFILES["outcome-failed-vss-space"])
    assert read_at(fine_bot, 21, 10) == ["verify"]
    top, _ = the_alert(stand_in)
    assert "failed: 0x80780119" in top["text"]
    # escalate_after_min is 20: the next window is the deadline now, not this one.
    service = fine_bot.alerting.service
    fine_bot.clock.set(21, 29)
    assert service.escalate_due() == 0
    fine_bot.clock.set(21, 30)
    assert service.escalate_due() == 1
    fine_bot.alerting.outbox.deliver_due()
    top, replies = the_alert(stand_in)
    assert "<!subteam^S0ONCALL>" in replies[-1]
    assert "Escalated" in str(top["blocks"])
    assert service.escalate_due() == 0  # once


def test_a_backup_that_never_started_is_an_alert_after_the_start_grace(
    fine_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    read_at(fine_bot, 20, 0)
    fine_bot.fleet.set_profile("fs01", PROFILES["outcome-not-run"])
    for minute in (10, 15, 20, 25):  # it may still start until 21:30
        assert read_at(fine_bot, 21, minute) == ["verify"]
    assert channel_messages(stand_in) == []
    read_at(fine_bot, 21, 30)
    top, replies = the_alert(stand_in)
    assert top["text"] == (
        "*fs01*: No backup ran at Nov 24, 2026, 9:00:00\u202fPM JST. "
        "Windows Server Backup has no next backup scheduled either."
    )
    assert replies[0].endswith("and that its scheduled task exists.")
    assert outcomes(fine_bot) == [("ok", "not_run", True)]


def test_a_success_with_no_alert_posts_nothing(fine_bot: AlertBot, stand_in: SlackStandIn) -> None:
    read_at(fine_bot, 20, 0)
    fine_bot.fleet.set_profile("fs01", PROFILES["outcome-succeeded"])
    assert read_at(fine_bot, 21, 10) == ["verify"]
    assert channel_messages(stand_in) == []
    assert outcomes(fine_bot) == [("ok", "succeeded", False)]
    assert read_at(fine_bot, 21, 15) == []


def test_a_failure_that_was_predicted_keeps_the_alert_open_marked_failed(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    read_at(alert_bot, 20, 0)  # D: too full; nobody fixes it
    _, before = the_alert(stand_in)
    alert_bot.fleet.set_profile("fs01", PROFILES["outcome-failed-vss-space"])
    assert read_at(alert_bot, 21, 10) == ["verify"]
    top, replies = the_alert(stand_in)
    failed = (
        "The backup at Nov 24, 2026, 9:00:00\u202fPM JST failed: 0x80780119, there is not "
        "enough disk space to create the volume shadow copy on a backed-up volume."
    )
    assert top["text"] == f"*fs01*: {failed}"
    assert "actions" in [b["type"] for b in top["blocks"]]  # still open, buttons and all
    assert replies[: len(before)] == before
    (reply,) = replies[len(before) :]
    assert reply.startswith(failed + "\nWhat to do: ")
    assert outcomes(alert_bot) == [("critical", "failed", True)]

    # 21:30: someone frees space and presses Re-check. The figures are fine now, but the
    # window's backup failed: the alert stays open, marked failed, with the new figures below.
    alert_bot.fleet.set_profile("fs01", FINE)
    alert_bot.clock.set(21, 30)
    server = alert_bot.alerting.service.inventory.find("fs01")
    assert server is not None
    alert_bot.alerting.service.check(server, WINDOW, actor="U123")
    alert_bot.alerting.outbox.deliver_due()
    top, after = the_alert(stand_in)
    assert top["text"] == f"*fs01*: {failed}"
    assert "actions" in [b["type"] for b in top["blocks"]]
    assert "Resolved" not in str(top["blocks"])
    assert not any(r.startswith("Resolved") for r in after)
    assert len(after) > len(replies)  # the re-check's figures, in the thread


def test_a_backup_still_running_after_the_timeout_is_said_once_in_the_thread(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    read_at(alert_bot, 20, 0)
    _, before = the_alert(stand_in)
    alert_bot.fleet.set_profile("fs01", PROFILES["outcome-running"])
    assert read_at(alert_bot, 21, 10) == ["verify"]
    # The bot was busy elsewhere; its next reading is at 03:00, six hours after the window.
    alert_bot.clock.now = WINDOW + timedelta(hours=6)
    assert [job.kind for job in alert_bot.alerting.driver.run_due()] == ["verify"]
    alert_bot.alerting.outbox.deliver_due()
    top, replies = the_alert(stand_in)
    still = "The backup at Nov 24, 2026, 9:00:00\u202fPM JST was still running 6 h later."
    assert replies[len(before) :] == [still]
    assert top["text"] == f"*fs01*: {still}"
    assert "actions" in [b["type"] for b in top["blocks"]]
    assert alert_bot.alerting.driver.run_due() == []
    assert outcomes(alert_bot) == [("critical", "still_running", True)]
