"""The weekly summary from a seeded history (tests/support/window_history.py): due at its moment
in the configured zone, queued once per week whichever replicas get there, and posted through
the outbox to the loopback Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.alerts.summary_job import WeeklySummaryJob
from bot.alerts.wiring import Alerting
from bot.config import Config, SummarySettings
from bot.i18n import catalog
from bot.storage.database import open_database
from bot.storage.models import OutboxMessage, ScheduledRun
from tests.bot.conftest import ALERT_CHANNEL, Clock, alert_config
from tests.support.fleet import SimulatedFleet
from tests.support.replica_group import LEASE, Replicas, at_once
from tests.support.slack_api import SlackStandIn
from tests.support.window_history import seed_windows

pytestmark = pytest.mark.timeout(90)
TOKYO = ZoneInfo("Asia/Tokyo")
# Tuesday 09:00 in Tokyo; the seeded windows end the evening before.
MOMENT = datetime(2026, 11, 24, 9, 0, tzinfo=TOKYO)
SUMMARY_CHANNEL = "C456"
EXPECTED = [
    "*Backups from Nov 17, 2026, 9:00:00\u202fAM JST to Nov 24, 2026, 9:00:00\u202fAM JST*",
    "Backups run: 7; succeeded: 3; failed or missed: 4.",
    "Failures the pre-check warned about: 2; not foreseen: 2.",
    "Median time to acknowledge an alert: 18 min.",  # of 25, 10, 25 and 10 minutes
    "Closest to the shadow-copy minimum:",
    "• fs01 D: has 5 GB free, 4.7 GB above the 320 MB minimum",
    "• fs01 C: has 50 GB free, 49.7 GB above the 320 MB minimum",
]


def summary_config(fleet: SimulatedFleet, **summary: Any) -> Config:
    settings = SummarySettings.model_validate(
        {"weekly_at": "Tue 09:00", "timezone": "Asia/Tokyo", **summary}
    )
    return alert_config(fleet).model_copy(update={"summary": settings})


def queued(url: str) -> list[tuple[str, str]]:
    with open_database(url)() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(r.idempotency_key, r.payload["channel"]) for r in rows]


def test_the_summary_is_queued_once_at_its_moment(
    evening_fleet: SimulatedFleet, database_url: str
) -> None:
    sessions = open_database(database_url)
    seed_windows(sessions, days=16)
    clock = Clock(MOMENT - timedelta(minutes=5))
    config = summary_config(evening_fleet)
    job = WeeklySummaryJob(config, sessions, catalog("en"), clock, "r1", LEASE)
    assert job.run_due() is None  # last week's moment is more than a day ago
    assert queued(database_url) == []
    clock.now = MOMENT + timedelta(minutes=2)
    summary = job.run_due()
    assert summary is not None
    assert (summary.ran, summary.failed, summary.predicted) == (7, 4, 2)
    assert job.run_due() is None  # done for this week
    key = f"summary/{MOMENT.isoformat()}"
    assert queued(database_url) == [(key, ALERT_CHANNEL)]  # alerts.channel by default
    with sessions() as session:
        text = session.scalars(select(OutboxMessage.payload)).one()["text"]
        runs = session.scalars(select(ScheduledRun)).all()
    assert text.splitlines() == EXPECTED
    assert [(r.kind, r.server, r.state) for r in runs] == [("summary", "*", "done")]


def test_a_bot_down_all_day_skips_that_weeks_summary(
    evening_fleet: SimulatedFleet, database_url: str
) -> None:
    sessions = open_database(database_url)
    clock = Clock(MOMENT + timedelta(days=1))
    job = WeeklySummaryJob(
        summary_config(evening_fleet), sessions, catalog("en"), clock, "r", LEASE
    )
    assert job.run_due() is None
    assert queued(database_url) == []


def test_a_configured_bot_looks_every_five_minutes(
    evening_fleet: SimulatedFleet, database_url: str, stand_in: SlackStandIn
) -> None:
    group = Replicas(summary_config(evening_fleet), database_url, stand_in, Clock(MOMENT))
    bot = group.add()
    bot.scheduler.start(paused=True)
    try:
        job = bot.scheduler.apscheduler.get_job("summary")
        assert job is not None
        assert job.trigger.interval == timedelta(minutes=5)
    finally:
        bot.scheduler.stop(wait=True)


def test_no_summary_unless_configured(
    evening_fleet: SimulatedFleet, database_url: str, stand_in: SlackStandIn
) -> None:
    group = Replicas(alert_config(evening_fleet), database_url, stand_in, Clock(MOMENT))
    assert group.add().scheduler.summary is None


@pytest.fixture
def two_replicas(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[tuple[list[Alerting], Clock]]:
    clock = Clock(MOMENT + timedelta(minutes=1))
    config = summary_config(evening_fleet, channel=SUMMARY_CHANNEL)
    group = Replicas(config, database_url, stand_in, clock)
    bots = [group.add(), group.add()]
    yield bots, clock
    for bot in bots:
        bot.scheduler.stop(wait=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_replicas_post_the_weekly_summary_once(
    two_replicas: tuple[list[Alerting], Clock],
    stand_in: SlackStandIn,
    database_url: str,
) -> None:
    bots, clock = two_replicas
    seed_windows(open_database(database_url), days=16)
    jobs = [bot.scheduler.summary for bot in bots]
    assert all(job is not None for job in jobs)
    first = at_once(*(job for job in jobs if job is not None))
    assert sorted(result is None for result in first) == [False, True]  # one posted
    for bot in bots:
        bot.outbox.deliver_due()
    posted = [m for (c, _), m in stand_in.messages.items() if c == SUMMARY_CHANNEL]
    assert [m["text"].splitlines() for m in posted] == [EXPECTED]
    clock.now += timedelta(hours=3)  # still the same week: nothing more
    assert at_once(*(job for job in jobs if job is not None)) == [None, None]
    clock.now += timedelta(days=7)  # the next week: once more
    assert sorted(r is None for r in at_once(*(j for j in jobs if j is not None))) == [False, True]
    for bot in bots:
        bot.outbox.deliver_due()
    assert len([c for (c, _) in stand_in.messages if c == SUMMARY_CHANNEL]) == 2
