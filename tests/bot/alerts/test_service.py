"""The alert service decides each change from the alert as stored at that moment: concurrent
presses and the escalation job never overwrite each other, and silences never shrink."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.service import Action
from bot.storage.models import OutboxMessage
from checks.units import MB
from tests.bot.conftest import AlertBot, open_alert, store_drain
from tests.conftest import PROFILES
from tests.support.slack_api import SlackStandIn


def _keys(bot: AlertBot) -> list[str]:
    with bot.alerting.service.history._sessions() as session:
        return list(session.scalars(select(OutboxMessage.idempotency_key)).all())


def test_eight_people_pressing_acknowledge_at_once_make_one_acknowledgement(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    open_alert(alert_bot, stand_in)
    (window,) = {w for w in alert_bot.alerting.driver.plan(give_up=False).windows.values() if w}
    service = alert_bot.alerting.service
    start = threading.Barrier(8)
    outcomes = []

    def press(user: str) -> None:
        start.wait()
        outcomes.append(service.act("fs01", window, Action.ACKNOWLEDGE, user))

    threads = [threading.Thread(target=press, args=(f"U{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.changed for o in outcomes) == 1
    assert sum("reply_acknowledged" in key for key in _keys(alert_bot)) == 1
    stored = service.alerts.find("fs01", window)
    assert stored is not None
    assert stored.alert.acknowledged_by in {f"U{n}" for n in range(8)}
    # The escalation job, running after, sees the acknowledgement and leaves it alone.
    alert_bot.clock.set(20, 55)
    assert service.escalate_due() == 0


def test_a_shorter_silence_never_cuts_a_longer_one(alert_bot: AlertBot) -> None:
    service = alert_bot.alerting.service
    now = alert_bot.clock()
    assert service.silence("fs01", now + timedelta(days=7), "U1").changed
    assert not service.silence("fs01", now + timedelta(hours=1), "U2").changed
    assert not service.silence("fs01", now - timedelta(hours=1), "U2").changed  # already over
    active = service.silences.of("fs01", now)
    assert active is not None
    assert (active.until, active.by) == (now + timedelta(days=7), "U1")


def test_a_check_logs_one_line_and_an_unknown_one_says_why(
    alert_bot: AlertBot, caplog: pytest.LogCaptureFixture
) -> None:
    alert_bot.fleet.set_profile("fs01", PROFILES["fault-http-503"])
    (server,) = alert_bot.alerting.service.inventory.resolved()
    with caplog.at_level(logging.INFO, logger="bot.alerts.service"):
        alert_bot.alerting.service.check(server, None)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.alerts.service"]
    assert line.startswith("fs01: unknown (fs01 could not be checked: ")
    assert "503" in line


def test_the_lead_time_alert_says_how_fast_d_has_been_falling(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    alert_bot.clock.set(20, 0)
    service = alert_bot.alerting.service
    (server,) = service.inventory.resolved()
    store_drain(service.history, service.inspect(server), "D:", 410 * MB)
    top = open_alert(alert_bot, stand_in)
    assert "D: has 235 MB free" in top["text"]
    assert "Free space on D: has been falling 410 MB/day." in top["text"]
    assert "Free space on D: has been falling 410 MB/day." in top["blocks"][0]["text"]["text"]
    # The report stored with the alert carries the trend, for its thread's details.
    (window,) = {w for w in alert_bot.alerting.driver.plan(give_up=False).windows.values() if w}
    stored = alert_bot.alerting.service.alerts.find("fs01", window)
    assert stored is not None
    assert stored.report is not None
    d = next(v for v in stored.report.volumes if v.letter == "D:")
    assert d.trend is not None
    assert d.trend.free_bytes_per_day == -410 * MB


def test_without_history_the_alert_says_nothing_of_a_trend(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    top = open_alert(alert_bot, stand_in)
    assert "D: has 235 MB free" in top["text"]
    assert "falling" not in top["text"]
