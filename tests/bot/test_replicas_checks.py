"""Replicas on one database, in one test process: each scheduled check runs once, the checks
are shared, a dead replica's claim is taken over when its lease ends (without the survivor
spinning meanwhile), and a stopping replica leaves its queued checks to the others at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.job import Job as TimedJob

from bot.alerts.schedule.leases import Verdict
from bot.alerts.schedule.store import ScheduleStore
from bot.storage.database import open_database
from tests.bot.conftest import JST, Clock
from tests.support.replica_group import LEASE, Replicas, fire_due, runs

pytestmark = pytest.mark.timeout(90)
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
DEAD = "dead-host:4242:dead"


def test_a_survivor_waits_for_a_dead_replicas_lease_then_takes_the_check_over(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(1)
    survivor = group.add()
    clock.now = datetime(2026, 11, 24, 19, 59, 55, tzinfo=JST)
    survivor.scheduler.start(paused=True)  # the 20:00 check is a timed job
    added: list[str] = []
    add_job = survivor.scheduler.apscheduler.add_job

    def counting(*args: Any, **kwargs: Any) -> TimedJob:
        added.append(kwargs["id"])
        return add_job(*args, **kwargs)

    survivor.scheduler.apscheduler.add_job = counting  # type: ignore[method-assign]
    # Another replica claims it at 20:00 and dies (kill -9: no renewal, no hand-back).
    (job,) = survivor.driver.plan().later
    dead_claim = ScheduleStore(open_database(database_url)).claim(job, job.run_at, DEAD, LEASE)
    assert dead_claim.verdict is Verdict.CLAIM
    fired: list[tuple[datetime, str]] = []
    clock.now = job.run_at
    end = clock.now + timedelta(minutes=2)
    while clock.now <= end:  # two minutes in 1 s steps, the plan re-made every 30 s
        fired += [(clock.now, job_id) for job_id in fire_due(survivor, clock.now)]
        if clock.now.second % 30 == 0:
            survivor.scheduler.sync()
        clock.now += timedelta(seconds=1)
    checks = [(at, job_id) for at, job_id in fired if job_id == job.id]
    # Once when it was due (held: look again at the lease's end), once at the end: taken over.
    assert checks == [(job.run_at, job.id), (job.run_at + LEASE, job.id)]
    # Added again once when found held, and once per plan round meanwhile (at the lease's end).
    assert len([a for a in added if a == job.id]) == 3
    assert group.checks_per_server() == {"s1": 1}
    run = runs(database_url)["check:s1"]
    assert (run.state, run.owner) == ("done", survivor.driver.replica)
    assert run.started_at == job.run_at + LEASE  # at the lease's end exactly


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_replicas_share_the_checks_and_each_runs_once(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(6)
    bots = [group.add() for _ in range(3)]
    # The first check waits until another replica has started one: they must share the work.
    two_busy = threading.Event()

    def hold() -> None:
        if len({index for index, _ in group.checked}) >= 2:
            two_busy.set()
        two_busy.wait(timeout=20)

    group.hold = hold
    clock.set(19, 59)
    for bot in bots:
        bot.scheduler.start(paused=True)
    # A fourth replica claims s6 at 20:00 and dies.
    (s6,) = [j for j in bots[0].driver.plan().later if j.server == "s6"]
    ScheduleStore(open_database(database_url)).claim(s6, s6.run_at, DEAD, LEASE)
    for moment in (s6.run_at, s6.run_at + LEASE):  # when all are due; when s6's lease ends
        clock.now = moment
        threads = [threading.Thread(target=fire_due, args=(bot, moment)) for bot in bots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        if moment == s6.run_at:
            assert "s6" not in group.checks_per_server()  # held by the dead replica
    assert group.checks_per_server() == {f"s{i}": 1 for i in range(1, 7)}
    assert len({index for index, _ in group.checked}) >= 2
    stored = runs(database_url)
    assert {r.state for r in stored.values() if r.kind == "check"} == {"done"}
    replica_ids = {bot.driver.replica for bot in bots}
    assert stored["check:s6"].owner in replica_ids
    assert stored["check:s6"].started_at == s6.run_at + LEASE


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stopping_replica_leaves_its_queued_checks_to_the_others_at_once(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(3, scheduler_workers=1)
    stopping, other = group.add(), group.add()
    checking, finish = threading.Event(), threading.Event()

    def hold() -> None:
        checking.set()
        assert finish.wait(timeout=30)

    group.hold = hold
    clock.set(20, 0)
    stopping.scheduler.start(paused=True)
    # Due now by the real clock too: one check runs, the two others wait for the one worker.
    for job in stopping.scheduler.apscheduler.get_jobs():
        if job.id.startswith("check:"):
            job.modify(next_run_time=datetime.now(UTC))
    stopping.scheduler.apscheduler.resume()
    assert checking.wait(timeout=30)
    (running_server,) = group.checks_per_server()
    stopper = threading.Thread(target=stopping.scheduler.stop, kwargs={"wait": True})
    stopper.start()
    # While the running check goes on, the queued ones are the other replica's to run now.
    queued = [j for j in other.driver.plan().due if j.server != running_server]
    assert len(queued) == 2
    assert all(other.service.schedule.claim(j, clock.now, "other:1:0", LEASE).runs for j in queued)
    finish.set()
    stopper.join(timeout=30)
    assert not stopper.is_alive()
    assert group.checks_per_server() == {running_server: 1}  # the queued ones never started
    assert runs(database_url)[f"check:{running_server}"].state == "done"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_what_a_stopped_replica_still_held_is_handed_back(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(1)
    stopping = group.add()
    clock.set(20, 0)
    (job,) = stopping.driver.plan().due
    # Claimed, then cut short before it could record the end (its database went away).
    stopping.service.schedule.claim(job, clock.now, stopping.driver.replica, LEASE)
    stopping.scheduler.stop(wait=True)
    taken = ScheduleStore(open_database(database_url)).claim(job, clock.now, "other:1:0", LEASE)
    assert taken.verdict is Verdict.TAKE_OVER


def test_a_running_checks_lease_is_renewed_so_nobody_takes_it_over(
    replicas: Callable[..., Replicas], database_url: str, clock: Clock
) -> None:
    group = replicas(1)
    bot = group.add()
    clock.set(20, 0)
    (job,) = bot.driver.plan().due
    renewed: list[int] = []
    others: list[Verdict] = []

    def hold() -> None:  # the check is slow: a lease's length later it is still running
        clock.now += LEASE - timedelta(seconds=1)
        renewed.append(bot.scheduler.renew_leases())
        clock.now += timedelta(seconds=2)
        other = ScheduleStore(open_database(database_url))
        others.append(other.claim(job, clock.now, "other:1:0", LEASE).verdict)

    group.hold = hold
    bot.scheduler.start(paused=True)
    assert fire_due(bot, clock.now) == [job.id]
    assert (renewed, others) == ([1], [Verdict.LEAVE])
    assert group.checks_per_server() == {"s1": 1}
