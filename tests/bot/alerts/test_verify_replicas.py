"""Verifications across replicas on one database: each reading is claimed once, a replica that
dies mid-reading is taken over when its lease ends, and the verdict is posted once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.schedule.leases import Verdict, key_of
from bot.alerts.schedule.store import ScheduleStore
from bot.config import Config
from bot.storage.database import open_database
from bot.storage.models import WindowOutcome
from tests.bot.conftest import ALERT_CHANNEL, Clock
from tests.conftest import PROFILES
from tests.support.fleet import SimulatedFleet
from tests.support.replica_group import (
    LEASE,
    Replicas,
    fire_due,
    fleet_config,
    runs,
)
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(120)
DEAD = "dead-host:4242:dead"


@pytest.fixture(autouse=True)
def backup_running(evening_fleet: SimulatedFleet) -> None:
    """fs01's backup is still running when the readings start."""
    evening_fleet.set_profile("fs01", PROFILES["outcome-running"])


def test_a_replica_dying_mid_reading_is_taken_over_when_its_lease_ends(
    replicas: Callable[..., Replicas],
    evening_fleet: SimulatedFleet,
    database_url: str,
    clock: Clock,
) -> None:
    group = replicas(1)
    survivor = group.add()
    clock.set(21, 10)
    (job,) = [j for j in survivor.driver.plan().due if j.kind == "verify"]
    # Another replica claims the 21:10 reading and dies (no renewal, no hand-back).
    store = ScheduleStore(open_database(database_url))
    assert store.claim(key_of(job), clock.now, DEAD, LEASE).verdict is Verdict.CLAIM
    held = survivor.driver.run(job)
    assert (held.verdict, held.until) == (Verdict.LEAVE, clock.now + LEASE)
    assert group.checked == []
    clock.now += LEASE
    assert survivor.driver.run(job).verdict is Verdict.TAKE_OVER
    assert group.checked == [(0, "s1")]
    parked = runs(database_url)["verify:s1"]
    # Still running: parked, held by nobody, until the next reading.
    assert (parked.state, parked.owner) == ("running", None)
    assert parked.lease_until == clock.now + timedelta(minutes=5)
    evening_fleet.set_profile("fs01", PROFILES["outcome-succeeded"])
    clock.now = parked.lease_until
    assert survivor.driver.run(job).verdict is Verdict.TAKE_OVER
    done = runs(database_url)["verify:s1"]
    assert (done.state, done.owner) == ("done", survivor.driver.replica)
    assert len(group.checked) == 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_replicas_read_each_server_once_per_reading_and_post_once(
    stand_in: SlackStandIn,
    evening_fleet: SimulatedFleet,
    replicas: Callable[..., Replicas],
    database_url: str,
    clock: Clock,
) -> None:
    document = fleet_config(evening_fleet, 3).model_dump(exclude_none=True)
    config = Config.model_validate({**document, "verify": {"post_success": True}})
    group = Replicas(config, database_url, stand_in, clock)
    bots = [group.add() for _ in range(2)]
    try:
        clock.set(21, 9)
        for bot in bots:
            bot.scheduler.start(paused=True)
        moment = clock.set(21, 10)
        end = moment + timedelta(minutes=30)
        while moment <= end:
            if moment.minute == 30:  # the backup finished meanwhile
                evening_fleet.set_profile("fs01", PROFILES["outcome-succeeded"])
            threads = [threading.Thread(target=fire_due, args=(bot, moment)) for bot in bots]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            moment = clock.now = moment + timedelta(minutes=1)
        # Readings at 21:10, :15, :20 and :25 (running) and :30 (done), for each server.
        assert group.checks_per_server() == {"s1": 5, "s2": 5, "s3": 5}
        for bot in bots:
            bot.outbox.deliver_due()
        posts = [m for (c, _), m in stand_in.messages.items() if c == ALERT_CHANNEL]
        assert sorted(m["text"].split(":")[0] for m in posts) == ["*s1*", "*s2*", "*s3*"]
        with open_database(database_url)() as session:
            kinds = session.scalars(select(WindowOutcome.kind)).all()
        assert kinds == ["succeeded"] * 3
    finally:
        for bot in bots:
            bot.scheduler.stop(wait=True)
