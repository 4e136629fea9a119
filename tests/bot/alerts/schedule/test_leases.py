"""Who runs a due check: the pure decision, from the stored claim and the time alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.alerts.schedule.leases import Claim, Decision, Verdict, decide

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=JST)
LEASE = timedelta(seconds=60)


def test_an_unclaimed_check_is_claimed_with_a_lease_from_now() -> None:
    assert decide(None, NOW, WINDOW, LEASE) == Decision(Verdict.CLAIM, NOW + LEASE)


def test_a_live_lease_is_left_alone_until_it_ends() -> None:
    held = Claim("other:1:aa", NOW + timedelta(seconds=30), "running")
    decision = decide(held, NOW, WINDOW, LEASE)
    assert decision == Decision(Verdict.LEAVE, NOW + timedelta(seconds=30))
    assert not decision.runs


def test_a_lease_that_ended_is_taken_over_at_its_end_exactly() -> None:
    held = Claim("dead:1:aa", NOW, "running")
    assert decide(held, NOW - timedelta(microseconds=1), WINDOW, LEASE).verdict is Verdict.LEAVE
    assert decide(held, NOW, WINDOW, LEASE) == Decision(Verdict.TAKE_OVER, NOW + LEASE)


def test_a_run_from_before_leases_is_free() -> None:
    assert decide(Claim(None, None, "running"), NOW, WINDOW, LEASE).verdict is Verdict.TAKE_OVER


@pytest.mark.parametrize("state", ["done", "missed"])
def test_a_finished_run_is_never_run_again_nor_looked_at(state: str) -> None:
    expired = Claim("dead:1:aa", NOW - timedelta(hours=1), state)
    assert decide(expired, NOW, WINDOW, LEASE) == Decision(Verdict.LEAVE, None)


def test_once_the_window_started_a_free_check_is_given_up() -> None:
    assert decide(None, WINDOW, WINDOW, LEASE) == Decision(Verdict.GIVE_UP)
    dead = Claim("dead:1:aa", WINDOW - timedelta(minutes=1), "running")
    assert decide(dead, WINDOW, WINDOW, LEASE).verdict is Verdict.GIVE_UP


def test_a_live_lease_past_the_window_start_is_still_left_to_its_holder() -> None:
    running = Claim("slow:1:aa", WINDOW + timedelta(seconds=20), "running")
    assert decide(running, WINDOW, WINDOW, LEASE) == Decision(Verdict.LEAVE, running.lease_until)
