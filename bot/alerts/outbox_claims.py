"""Claiming outbox messages for one replica's delivery round, and handing back what it left.

On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED while they are claimed, so two
replicas claiming at the same moment never take the same message; the lease then keeps them
apart while one of them talks to Slack outside any transaction. SQLite ignores the locking
clause: it is for one process, whose rounds the outbox serializes itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.outbox_plan import Pending, claimable
from bot.storage.models import OutboxMessage

_Row = tuple[int, str, str | None, datetime, str | None, datetime | None]
_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.idempotency_key,
    OutboxMessage.thread,
    OutboxMessage.next_attempt_at,
    OutboxMessage.claimed_by,
    OutboxMessage.lease_until,
)


def claim(
    sessions: sessionmaker[Session],
    replica: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[tuple[int, str]]:
    """Claim what this round may deliver; returns (id, thread) pairs, oldest first."""
    with sessions.begin() as session:
        # Every undelivered message, due or not: one that is not due still holds back the
        # later messages of its thread.
        pending = _pending(session, select(*_COLUMNS))
        wanted = claimable(pending.values(), replica, now, limit)
        if not wanted:
            return []
        # Lock what we want; a row another replica is claiming right now is skipped, and its
        # thread waits. Locking re-reads the rows, so a claim committed since our read counts.
        fresh = _pending(
            session,
            select(*_COLUMNS).where(OutboxMessage.id.in_(wanted)).with_for_update(skip_locked=True),
        )
        busy = set(wanted) - fresh.keys()
        # Only rows up to the last one wanted: anything past it was never locked.
        upto = [fresh.get(i, p) for i, p in pending.items() if i <= max(wanted)]
        chosen = [i for i in claimable(upto, replica, now, limit, busy) if i in fresh]
        if chosen:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(chosen))
                .values(claimed_by=replica, lease_until=now + lease)
            )
        return [(i, fresh[i].thread) for i in chosen]


def release(sessions: sessionmaker[Session], replica: str, ids: Collection[int]) -> None:
    """Hand back claims a round did not use, so no one waits for their lease to run out."""
    if not ids:
        return
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claimed_by == replica)
            .values(claimed_by=None, lease_until=None)
        )


def _pending(session: Session, query: Select[*_Row]) -> dict[int, Pending]:
    rows = session.execute(query.where(OutboxMessage.state == "pending")).all()
    return {
        row.id: Pending(
            row.id,
            row.thread or row.idempotency_key,
            row.next_attempt_at,
            row.claimed_by,
            row.lease_until,
        )
        for row in sorted(rows, key=lambda r: r.id)
    }
