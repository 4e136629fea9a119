"""What a delivery round may take: plain data in, ids out; no database, no Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.outbox_plan import Pending, claimable, leased_elsewhere, thread_of

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
EARLIER = NOW - timedelta(seconds=1)


def test_a_thread_goes_out_in_decided_order_with_everything_due_in_one_round() -> None:
    rows = [Pending(3, "a", NOW), Pending(1, "a", NOW), Pending(2, "a", NOW)]
    assert claimable(rows, "r1", NOW, limit=50) == [1, 2, 3]


def test_a_reply_waiting_for_retry_after_holds_back_the_later_replies_of_its_thread() -> None:
    rows = [
        Pending(1, "alert-1/post", LATER),  # Slack said 429: Retry-After 30 s
        Pending(2, "alert-1/post", NOW),
        Pending(3, "alert-1/post", NOW),
    ]
    assert claimable(rows, "r1", NOW, limit=50) == []


def test_one_slow_thread_never_holds_back_the_others() -> None:
    rows = [
        Pending(1, "alert-1/post", LATER),
        Pending(2, "alert-2/post", NOW),
        Pending(3, "alert-1/post", NOW),
        Pending(4, "alert-3/post", NOW),
        Pending(5, "alert-2/post", NOW),
    ]
    assert claimable(rows, "r1", NOW, limit=50) == [2, 4, 5]


def test_a_message_leased_by_another_replica_holds_back_its_thread_until_the_lease_ends() -> None:
    rows = [
        Pending(1, "a", NOW, claimed_by="r2", lease_until=NOW + timedelta(seconds=15)),
        Pending(2, "a", NOW),
        Pending(3, "b", NOW),
    ]
    assert claimable(rows, "r1", NOW, limit=50) == [3]
    assert claimable(rows, "r1", NOW + timedelta(seconds=15), limit=50) == [1, 2, 3]


def test_our_own_claim_and_a_released_one_are_takeable() -> None:
    # Our own: a round of ours that ended without handing it back (rounds never overlap).
    rows = [
        Pending(1, "a", NOW, claimed_by="r1", lease_until=LATER),
        Pending(2, "b", NOW, claimed_by=None, lease_until=None),
    ]
    assert claimable(rows, "r1", NOW, limit=50) == [1, 2]


def test_a_row_another_replica_is_claiming_right_now_holds_back_its_thread() -> None:
    rows = [Pending(1, "a", NOW), Pending(2, "a", NOW), Pending(3, "b", NOW)]
    assert claimable(rows, "r1", NOW, limit=50, busy={1}) == [3]


def test_the_limit_counts_claims_oldest_first() -> None:
    rows = [Pending(i, f"t{i % 2}", EARLIER) for i in range(1, 8)]
    assert claimable(rows, "r1", NOW, limit=3) == [1, 2, 3]


def test_leases_run_out_at_their_instant() -> None:
    held = Pending(1, "a", NOW, claimed_by="r2", lease_until=NOW)
    assert not leased_elsewhere(held, "r1", NOW)
    assert leased_elsewhere(held, "r1", EARLIER)
    assert not leased_elsewhere(held, "r2", EARLIER)


def test_a_message_belongs_to_the_thread_of_the_post_it_names() -> None:
    assert thread_of("alert-1/post", "chat.postMessage", {"channel": "C"}) == "alert-1/post"
    reply = {"channel": "C", "thread_ts_of": "alert-1/post", "text": "details"}
    assert thread_of("alert-1/9/x/0", "chat.postMessage", reply) == "alert-1/post"
    update = {"channel": "C", "ts_of": "alert-1/post", "text": "resolved"}
    assert thread_of("alert-1/9/y/0", "chat.update", update) == "alert-1/post"
    assert thread_of("u", "chat.update", {"channel": "C", "ts": "1.2"}) == "C/1.2"
    assert thread_of("r", "chat.postMessage", {"channel": "C", "thread_ts": "1.2"}) == "C/1.2"
