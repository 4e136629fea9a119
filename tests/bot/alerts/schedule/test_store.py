"""Claims in the database, on SQLite and PostgreSQL: leased to one replica, taken over when the
lease ends, never run twice even when replicas race for one."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.alerts.schedule.leases import Decision, Verdict, period_key
from bot.alerts.schedule.plan import Job
from bot.alerts.schedule.store import ScheduleStore
from bot.storage.database import open_database
from bot.storage.models import ScheduledRun

pytestmark = pytest.mark.timeout(60)
JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=JST)
LEASE = timedelta(seconds=60)
JOB = Job("fs01", "check", WINDOW, NOW)
A, B = "host-a:10:aaaa", "host-b:20:bbbb"


@pytest.fixture
def store(database_url: str) -> ScheduleStore:
    return ScheduleStore(open_database(database_url))


def row(store: ScheduleStore) -> ScheduledRun:
    with store._sessions() as session:
        found = session.scalar(select(ScheduledRun))
        assert found is not None
        return found


def test_a_claim_is_leased_to_its_replica_and_others_look_again_at_its_end(
    store: ScheduleStore,
) -> None:
    assert store.claim(JOB, NOW, A, LEASE) == Decision(Verdict.CLAIM, NOW + LEASE)
    assert (row(store).owner, row(store).lease_until) == (A, NOW + LEASE)
    later = NOW + timedelta(seconds=30)
    assert store.claim(JOB, later, B, LEASE) == Decision(Verdict.LEAVE, NOW + LEASE)


def test_a_dead_replicas_claim_is_taken_over_when_its_lease_ends(store: ScheduleStore) -> None:
    store.claim(JOB, NOW, A, LEASE)  # and A dies
    ends = NOW + LEASE
    assert store.claim(JOB, ends - timedelta(seconds=1), B, LEASE).verdict is Verdict.LEAVE
    assert store.claim(JOB, ends, B, LEASE) == Decision(Verdict.TAKE_OVER, ends + LEASE)
    assert (row(store).owner, row(store).started_at) == (B, ends)


def test_a_finished_run_is_never_claimed_again(store: ScheduleStore) -> None:
    store.claim(JOB, NOW, A, LEASE)
    store.finish(JOB, NOW + timedelta(seconds=5))
    assert store.claim(JOB, NOW + timedelta(hours=2), B, LEASE) == Decision(Verdict.LEAVE)
    assert row(store).state == "done"


def test_renewal_keeps_a_running_claim_and_release_hands_it_back_at_once(
    store: ScheduleStore,
) -> None:
    store.claim(JOB, NOW, A, LEASE)
    assert store.renew(B, NOW + timedelta(seconds=20), LEASE) == 0  # only one's own
    assert store.renew(A, NOW + timedelta(seconds=20), LEASE) == 1
    assert store.claim(JOB, NOW + LEASE, B, LEASE).until == NOW + timedelta(seconds=80)
    released = NOW + timedelta(seconds=30)
    assert store.release(A, released) == 1
    assert store.claim(JOB, released, B, LEASE).verdict is Verdict.TAKE_OVER


def test_giving_up_leaves_a_live_claim_alone(store: ScheduleStore) -> None:
    store.claim(JOB, NOW, A, LEASE)
    assert not store.give_up(JOB, NOW + timedelta(seconds=1))
    assert row(store).state == "running"
    assert store.give_up(JOB, NOW + LEASE)
    assert row(store).state == "missed"


def test_once_the_window_started_a_free_check_is_recorded_as_missed(store: ScheduleStore) -> None:
    store.claim(JOB, NOW, A, LEASE)
    assert store.claim(JOB, WINDOW, B, LEASE).verdict is Verdict.GIVE_UP
    assert (row(store).state, row(store).owner) == ("missed", None)


@pytest.mark.parametrize("taken_over", [False, True], ids=["new", "takeover"])
def test_replicas_racing_for_one_check_one_wins(database_url: str, taken_over: bool) -> None:
    stores = [ScheduleStore(open_database(database_url)) for _ in range(6)]
    at = NOW
    if taken_over:
        stores[0].claim(JOB, NOW, "dead:1:dddd", LEASE)
        at = NOW + LEASE
    start = threading.Barrier(len(stores))
    decisions: list[Decision] = []

    def race(index: int) -> None:
        start.wait(timeout=20)
        decisions.append(stores[index].claim(JOB, at, f"replica:{index}:0000", LEASE))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(decisions) == len(stores)
    winners = [d for d in decisions if d.runs]
    assert len(winners) == 1
    # The losers look again when the winner's lease ends: no retry at once.
    assert {d.until for d in decisions if not d.runs} == {at + LEASE}


def test_a_restart_on_sqlite_frees_its_own_unfinished_runs_replicas_wait_for_the_lease(
    store: ScheduleStore, database_url: str
) -> None:
    store.claim(JOB, NOW, A, LEASE)
    freed = store.recover()
    assert freed == (1 if database_url.startswith("sqlite") else 0)


def test_a_claim_handed_back_is_free_for_the_others_and_only_for_them(
    store: ScheduleStore,
) -> None:
    store.claim(JOB, NOW, A, LEASE)
    assert store.free(B, NOW) == set()  # A holds it
    later = NOW + timedelta(seconds=5)
    assert store.release(A, later) == 1
    assert store.free(B, later) == {("fs01", "check", WINDOW)}
    assert store.free(A, later) == set()  # what A handed back is not A's to take again


def test_a_failed_jobs_claim_is_withdrawn_and_may_be_claimed_afresh(
    store: ScheduleStore,
) -> None:
    key = period_key("retention", NOW, timedelta(hours=24))
    assert store.claim(key, NOW, A, LEASE).verdict is Verdict.CLAIM
    store.withdraw(key, B)  # not B's: stays
    assert store.claim(key, NOW, B, LEASE).verdict is Verdict.LEAVE
    store.withdraw(key, A)
    assert store.claim(key, NOW, B, LEASE) == Decision(Verdict.CLAIM, NOW + LEASE)


def test_replicas_remembering_a_servers_schedule_at_once_all_succeed(database_url: str) -> None:
    stores = [ScheduleStore(open_database(database_url)) for _ in range(6)]
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def remember(index: int) -> None:
        start.wait(timeout=20)
        try:
            stores[index].remember("fs01", WINDOW, NOW + timedelta(seconds=index))
        except BaseException as error:  # noqa: BLE001 - the test reports whatever escaped
            errors.append(error)

    threads = [threading.Thread(target=remember, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    (discovered, refreshed) = stores[0].discovered()["fs01"]
    assert discovered == WINDOW
    assert NOW <= refreshed <= NOW + timedelta(seconds=5)


def test_a_check_that_learnt_nothing_keeps_the_known_schedule(store: ScheduleStore) -> None:
    store.remember("fs01", None, NOW, keep=True)
    assert store.discovered()["fs01"] == (None, NOW)
    store.remember("fs01", WINDOW, NOW + timedelta(minutes=1))
    store.remember("fs01", None, NOW + timedelta(minutes=2), keep=True)
    assert store.discovered()["fs01"] == (WINDOW, NOW + timedelta(minutes=2))
