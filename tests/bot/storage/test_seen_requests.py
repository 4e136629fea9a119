"""The database's record of accepted Slack signatures: each is accepted once by all replicas,
rows leave once their timestamp could no longer verify, and a database that cannot be asked
says so instead of failing the request."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.database import make_engine, open_database
from bot.storage.models import SeenRequest
from bot.storage.seen_requests import PRUNE_EVERY_S, SeenRequestStore

WINDOW_S = 301
SIGNATURE = "v0=" + "a" * 64


def now() -> int:
    """A request's timestamp as Slack would send it now: rows older than the window are pruned
    against the real clock, so a time taken when the module was imported goes stale."""
    return int(time.time())


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SeenRequest)) or 0)


def test_a_signature_is_accepted_once_and_stored_as_its_digest_only(database_url: str) -> None:
    sessions = open_database(database_url)
    store = SeenRequestStore(sessions, WINDOW_S)
    sent = now()
    assert store.first_time(SIGNATURE, sent) is True
    assert store.first_time(SIGNATURE, sent) is False
    # Another process on the same database (a replica, or this one restarted) refuses it too.
    assert SeenRequestStore(sessions, WINDOW_S).first_time(SIGNATURE, sent) is False
    assert store.first_time("v0=" + "b" * 64, sent) is True
    with sessions() as session:
        digests = session.scalars(select(SeenRequest.digest)).all()
    assert len(digests) == 2
    assert all(len(d) == 64 and "a" * 64 not in d for d in digests)


def test_rows_go_once_their_timestamp_leaves_the_window(database_url: str) -> None:
    sessions = open_database(database_url)
    clock = Clock(1_700_000_000)
    store = SeenRequestStore(sessions, WINDOW_S, clock)
    store.first_time(SIGNATURE, int(clock.now))
    clock.now += WINDOW_S - 1  # a prune runs, but the first still verifies: kept
    store.first_time("v0=" + "b" * 64, int(clock.now))
    assert _rows(sessions) == 2
    clock.now += PRUNE_EVERY_S + 2  # the first has left the window; the second has not
    store.first_time("v0=" + "c" * 64, int(clock.now))
    assert _rows(sessions) == 2
    assert store.first_time("v0=" + "b" * 64, int(clock.now)) is False


def _race(stores: list[SeenRequestStore], signature: str) -> list[bool | None]:
    """Every store asked about one signature at the same moment; their answers."""
    barrier = threading.Barrier(len(stores))
    answers: list[bool | None] = []
    sent = now()

    def ask(store: SeenRequestStore) -> None:
        barrier.wait(timeout=10)
        answers.append(store.first_time(signature, sent))

    threads = [threading.Thread(target=ask, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return answers


def test_of_replicas_handed_one_request_at_once_exactly_one_accepts_it(
    database_url: str,
) -> None:
    sessions = open_database(database_url)
    stores = [SeenRequestStore(sessions, WINDOW_S) for _ in range(8)]
    for round_ in range(20):
        answers = _race(stores, f"v0={round_:064x}")
        assert sorted(answers, key=str) == [False] * (len(stores) - 1) + [True]


def test_a_database_that_cannot_be_asked_answers_none() -> None:
    # Port 9 (discard) refuses connections: the database is down.
    sessions = sessionmaker(make_engine("postgresql+psycopg://postgres@127.0.0.1:9/test"))
    assert SeenRequestStore(sessions, WINDOW_S).first_time(SIGNATURE, now()) is None
