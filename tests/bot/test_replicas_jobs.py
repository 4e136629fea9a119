"""Replicas on one PostgreSQL database, in one test process: a check that outlasts a SIGTERM's
grace is handed back and records nothing; retention runs once per day and a server's
discovery once, whichever replicas get there."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.alerts.schedule.leases import Verdict
from bot.config import Config
from bot.storage.database import open_database
from bot.storage.models import Alert as AlertRow
from bot.storage.models import ScheduledRun
from tests.bot.conftest import Clock
from tests.support.fleet import SimulatedFleet
from tests.support.replica_group import LEASE, Replicas, at_once, runs
from tests.support.replicas import wait_until

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]
GRACE = timedelta(seconds=1)


def test_a_check_outlasting_the_grace_is_handed_back_and_what_it_finds_is_not_recorded(
    replicas: Callable[..., Replicas],
    database_url: str,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    group = replicas(1, shutdown_grace_s=int(GRACE.total_seconds()))
    stopping, other = group.add(), group.add()
    checking, finish = threading.Event(), threading.Event()

    def hold() -> None:  # a host far slower than the grace
        checking.set()
        assert finish.wait(timeout=30)

    group.hold = hold
    clock.set(20, 0)
    stopping.scheduler.start(paused=True)
    (timed,) = [j for j in stopping.scheduler.apscheduler.get_jobs() if j.id.startswith("check:")]
    timed.modify(next_run_time=datetime.now(UTC))  # due by the real clock too
    stopping.scheduler.apscheduler.resume()
    assert checking.wait(timeout=30)
    began = time.monotonic()
    with caplog.at_level(logging.INFO, logger="bot.alerts.schedule"):
        stopping.scheduler.stop(wait=True)
        took = time.monotonic() - began
        run = runs(database_url)["check:s1"]
        # Handed back, unfinished: free for another replica now, not at the lease's end.
        assert (run.state, run.owner, run.lease_until) == (
            "running",
            stopping.driver.replica,
            clock.now,
        )
        (job,) = other.driver.plan().due
        assert (
            other.service.schedule.claim(job, clock.now, other.driver.replica, LEASE).verdict
            is Verdict.TAKE_OVER
        )
        finish.set()  # the host answers at last
        wait_until(lambda: "left the check of s1" in caplog.text, 30, "the check's end")
    assert GRACE.total_seconds() <= took < GRACE.total_seconds() + 2
    assert "1 checks were still running 1 s after SIGTERM" in caplog.text
    assert group.checks_per_server() == {"s1": 1}
    # Nothing of what it found was stored: no result, no alert, and the run is the taker's.
    assert stopping.service.history.of("s1") == []
    with open_database(database_url)() as session:
        assert session.scalars(select(AlertRow)).all() == []
    run = runs(database_url)["check:s1"]
    assert (run.state, run.owner) == ("running", other.driver.replica)


def test_retention_runs_on_one_replica_per_day(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(1)
    bots = [group.add() for _ in range(3)]
    prunes = [bot.scheduler.prune for bot in bots]
    first = at_once(*prunes)
    assert sorted(r is None for r in first) == [False, True, True]  # one ran, two left it
    clock.now += timedelta(hours=10)  # the same day in UTC (19:00 JST is 10:00 UTC)
    assert at_once(*prunes) == [None, None, None]
    clock.now += timedelta(hours=14)  # the next day
    assert sorted(r is None for r in at_once(*prunes)) == [False, True, True]
    with open_database(database_url)() as session:
        stored = session.scalars(select(ScheduledRun).order_by(ScheduledRun.window_at)).all()
        day = datetime(2026, 11, 24, tzinfo=UTC)
        assert [(r.kind, r.window_at, r.state) for r in stored] == [
            ("retention", day, "done"),
            ("retention", day + timedelta(days=1), "done"),
        ]


def _unconfigured(config: Config) -> Config:
    """The same servers with no backup_times: their windows come from their own schedule."""
    document = config.model_dump(exclude_none=True)
    for server in document["servers"]:
        del server["backup_times"]
    return Config.model_validate(document)


def test_a_servers_schedule_is_asked_for_once_whichever_replicas_plan_it(
    replicas: Callable[..., Replicas],
    evening_fleet: SimulatedFleet,
    database_url: str,
    clock: Clock,
) -> None:
    planned = replicas(1)
    group = Replicas(_unconfigured(planned.config), database_url, planned.stand_in, clock)
    first, second = group.add(), group.add()
    clock.set(10, 0)
    (job,) = first.driver.plan().due
    assert job.kind == "discover"
    assert second.driver.plan().due == [job]  # both would ask
    asking, answer = threading.Event(), threading.Event()

    def hold() -> None:
        asking.set()
        assert answer.wait(timeout=30)

    group.hold = hold
    asker = threading.Thread(target=first.driver.run, args=(job,))
    asker.start()
    assert asking.wait(timeout=30)
    held = second.driver.run(job)  # while the first is asking
    assert (held.verdict, held.until) == (Verdict.LEAVE, clock.now + LEASE)
    answer.set()
    asker.join(timeout=30)
    assert second.driver.run(job).verdict is Verdict.LEAVE  # asked: nothing to run again
    assert group.checks_per_server() == {"s1": 1}
    assert evening_fleet.actions_for("fs01").count("Create") == 1  # one WinRM shell
    assert first.driver.plan().due == second.driver.plan().due == []
    for bot in group.bots:
        bot.scheduler.stop(wait=True)


def test_a_check_handed_back_is_fired_at_once_by_the_others_not_at_its_leases_end(
    replicas: Callable[..., Replicas], clock: Clock
) -> None:
    group = replicas(1)
    holder, other = group.add(), group.add()
    clock.set(20, 0)
    (job,) = holder.driver.plan().due
    holder.service.schedule.claim(job, clock.now, holder.driver.replica, LEASE)
    other.scheduler.start(paused=True)
    timed = other.scheduler.apscheduler.get_job(job.id)
    assert timed.next_run_time == clock.now + LEASE  # held: looked at when its lease ends
    assert other.scheduler.take_free() == 0
    clock.now += timedelta(seconds=5)
    holder.scheduler.stop(wait=True)  # SIGTERM while it held the check
    assert other.scheduler.take_free() == 1
    assert other.scheduler.apscheduler.get_job(job.id).next_run_time == clock.now
