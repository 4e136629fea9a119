"""What a delivery round may take from the outbox: leases across replicas, order within a thread.

Pure: rows come in as plain data, so the rules are tested without a database or a Slack.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Pending:
    """One undelivered outbox message, as far as ordering and leases are concerned."""

    id: int  # ids follow the order the messages were decided in
    thread: str
    due_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None


def thread_of(key: str, method: str, payload: Mapping[str, Any]) -> str:
    """The thread a message belongs to: its post's key, or its own key for a top-level post."""
    for reference in ("thread_ts_of", "ts_of"):
        if payload.get(reference):
            return str(payload[reference])
    # A literal ts (an update of a post whose key we do not know) is a thread of its own too.
    literal = payload.get("thread_ts") or (payload.get("ts") if method == "chat.update" else None)
    if literal:
        return f"{payload.get('channel')}/{literal}"
    return key


def leased_elsewhere(message: Pending, replica: str, now: datetime) -> bool:
    """Whether another replica holds a lease on the message that has not run out."""
    return (
        message.claimed_by not in (None, replica)
        and message.lease_until is not None
        and message.lease_until > now
    )


def claimable(
    pending: Iterable[Pending],
    replica: str,
    now: datetime,
    limit: int,
    busy: Collection[int] = (),
) -> list[int]:
    """The ids a round may claim, oldest first: due, not leased elsewhere, and never behind an
    earlier undelivered message of the same thread (``busy``: being claimed by another replica)."""
    stalled: set[str] = set()
    taken: list[int] = []
    for message in sorted(pending, key=lambda m: m.id):
        if len(taken) >= limit:
            break
        if message.thread in stalled:
            continue
        if message.id in busy or leased_elsewhere(message, replica, now) or message.due_at > now:
            # Everything later in this thread waits for this one; other threads go on.
            stalled.add(message.thread)
            continue
        taken.append(message.id)
    return taken
