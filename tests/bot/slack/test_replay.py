"""Replay protection: a signed request is accepted once within Slack's five-minute window, by
every process on one database; the memory it takes is given back as signatures age out of that
window."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy.orm import sessionmaker

from bot.slack.replay import WINDOW_S, ReplayGuard, SeenSignatures
from bot.storage.database import make_engine, open_database
from bot.storage.seen_requests import SeenRequestStore
from tests.bot.conftest import SIGNING_SECRET, Bot
from tests.support.slack_api import SlackStandIn
from tests.support.slack_signing import block_action_body, post, sign, slash_command_body

pytestmark = pytest.mark.timeout(60)
NOW = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_a_signature_is_new_once_and_again_after_its_timestamp_leaves_the_window() -> None:
    clock = FakeClock()
    seen = SeenSignatures(clock=clock)
    assert seen.first_time("v0=a", int(NOW))
    assert not seen.first_time("v0=a", int(NOW))
    clock.now = NOW + WINDOW_S - 0.5
    assert not seen.first_time("v0=a", int(NOW))  # bolt would still accept its timestamp
    clock.now = NOW + WINDOW_S + 0.5
    assert seen.first_time("v0=a", int(NOW))  # bolt refuses it as stale by now anyway


def test_memory_is_bounded_by_the_signatures_of_the_last_window() -> None:
    clock = FakeClock()
    seen = SeenSignatures(clock=clock)
    for second in range(3 * int(WINDOW_S)):
        clock.now = NOW + second
        for n in range(10):
            assert seen.first_time(f"v0={second}-{n}", int(clock.now))
    assert len(seen) <= 10 * (int(WINDOW_S) + 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(-300, 300), st.booleans()),
        min_size=1,
        max_size=200,
    )
)
def test_whatever_order_timestamps_come_in_a_signature_is_refused_until_it_expires(
    steps: list[tuple[int, int, bool]],
) -> None:
    # Each step: the clock moves on, then a request stamped up to 300 s either side of now (what
    # bolt accepts) arrives, or one accepted earlier is sent again.
    clock = FakeClock()
    seen = SeenSignatures(clock=clock)
    accepted: dict[str, int] = {}
    for n, (advance, skew, replay) in enumerate(steps):
        clock.now += advance
        if replay and accepted:
            signature, timestamp = next(reversed(accepted.items()))
            if clock.now <= timestamp + WINDOW_S:  # bolt would still accept its timestamp
                assert not seen.first_time(signature, timestamp)
        else:
            timestamp = int(clock.now) + skew
            assert seen.first_time(f"v0={n}", timestamp)
            accepted[f"v0={n}"] = timestamp
        live = sum(clock.now <= t + WINDOW_S for t in accepted.values())
        # Entries behind one stamped late are kept until it expires: at most two windows' worth.
        assert live <= len(seen) <= sum(clock.now <= t + 3 * WINDOW_S for t in accepted.values())


def test_remembering_signatures_sets_off_no_garbage_collection() -> None:
    seen = SeenSignatures()
    signatures = [f"v0={n:064x}" for n in range(20_000)]
    gc.collect()
    before = gc.get_stats()[0]["collections"]
    for signature in signatures:
        seen.first_time(signature, int(time.time()))
    # A heap of (expiry, signature) tuples set off about one collection per 700 requests, each
    # pausing every request; a little slack is left for other threads' allocations.
    assert gc.get_stats()[0]["collections"] - before < 5


def test_of_parallel_copies_of_one_request_exactly_one_is_accepted() -> None:
    seen = SeenSignatures()
    results: list[bool] = []
    start = threading.Barrier(16)

    def race() -> None:
        start.wait()
        results.append(seen.first_time("v0=same", int(time.time())))

    racers = [threading.Thread(target=race) for _ in range(16)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=10)
    assert sorted(results) == [False] * 15 + [True]


def test_a_replayed_slash_command_is_refused_and_starts_no_second_check(
    stand_in: SlackStandIn, bot: Bot, http_url: str
) -> None:
    body = slash_command_body(text="fs01", response_url=stand_in.response_url())
    headers = sign(SIGNING_SECRET, body)
    assert post(http_url, body, headers)[0] == 200
    assert [post(http_url, body, headers)[0] for _ in range(3)] == [401] * 3
    stand_in.wait_for_response(1, timeout=20)
    time.sleep(0.3)  # a second check, had one started, would have contacted fs01 by now
    assert len(bot.contacted) == 1


def test_a_replayed_button_press_is_refused_but_the_same_body_signed_anew_is_not(
    stand_in: SlackStandIn, bot: Bot, http_url: str
) -> None:
    body = block_action_body("recheck", value="nosuch", response_url=stand_in.response_url())
    first = sign(SIGNING_SECRET, body, timestamp=int(time.time()) - 1)
    assert post(http_url, body, first)[0] == 200
    assert post(http_url, body, first)[0] == 401
    # Slack signs each retry anew: a new timestamp makes a new signature, which is accepted.
    assert post(http_url, body, sign(SIGNING_SECRET, body))[0] == 200


def _guarded(guard: ReplayGuard, body: bytes, headers: dict[str, str]) -> int:
    """The status the guard gives a request (200: passed on to the listeners)."""
    request = BoltRequest(body=body.decode(), headers=headers)
    passed = BoltResponse(status=200, body="")
    response = guard.process(
        req=request, resp=BoltResponse(status=500, body=""), next=lambda: passed
    )
    return response.status


def test_with_a_database_a_request_one_process_accepted_is_refused_by_another(
    tmp_path: Path,
) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'backupcheck.db'}")
    one, other = (ReplayGuard(SeenSignatures(), SeenRequestStore(sessions, WINDOW_S)) for _ in "ab")
    body = slash_command_body(text="fs01")
    headers = sign(SIGNING_SECRET, body)
    assert _guarded(one, body, headers) == 200
    assert _guarded(other, body, headers) == 401
    assert _guarded(one, body, headers) == 401


def test_when_the_database_cannot_be_asked_the_process_record_still_refuses_replays() -> None:
    down = sessionmaker(make_engine("postgresql+psycopg://postgres@127.0.0.1:9/test"))
    guard = ReplayGuard(SeenSignatures(), SeenRequestStore(down, WINDOW_S))
    body = slash_command_body(text="fs01")
    headers = sign(SIGNING_SECRET, body)
    assert _guarded(guard, body, headers) == 200
    assert _guarded(guard, body, headers) == 401
