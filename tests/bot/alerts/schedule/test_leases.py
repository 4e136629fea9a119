"""Who runs a due job: the pure decision, from the stored claim and the time alone, and the
key every replica claims a job under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.alerts.schedule.leases import (
    EVERYWHERE,
    Claim,
    Decision,
    Key,
    Verdict,
    decide,
    key_of,
    period_key,
)
from bot.alerts.schedule.plan import Job

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


def test_a_job_with_no_deadline_is_never_too_late() -> None:
    long_after = NOW + timedelta(days=3)
    assert decide(None, long_after, None, LEASE) == Decision(Verdict.CLAIM, long_after + LEASE)


def test_a_check_is_claimed_for_its_window_and_pointless_once_it_starts() -> None:
    key = key_of(Job("fs01", "recheck", WINDOW, NOW))
    assert key == Key("fs01", "recheck", WINDOW, WINDOW, NOW)


def test_a_discovery_is_claimed_for_the_refresh_it_follows_and_never_too_late() -> None:
    refreshed = NOW - timedelta(days=1)
    assert key_of(Job("fs01", "discover", refreshed, NOW)) == Key(
        "fs01", "discover", refreshed, None, NOW
    )


def test_replicas_anywhere_in_one_period_claim_the_same_key() -> None:
    day = timedelta(hours=24)
    start = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    early, late = start + timedelta(minutes=10), start + timedelta(hours=23, minutes=59)
    assert period_key("retention", early, day).at == period_key("retention", late, day).at
    assert period_key("retention", early, day) == Key(
        EVERYWHERE, "retention", start, start + day, early
    )
    assert period_key("retention", start + day, day).at == start + day  # the next period
    # The same instant in another zone is the same period.
    assert period_key("retention", late.astimezone(JST), day).at == start
