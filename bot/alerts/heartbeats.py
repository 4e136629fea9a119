"""Replicas' heartbeats in the database, and the status view's read of them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.replicas import Heartbeat, Held, ReplicaStatus
from bot.alerts.schedule.store import ScheduleStore, reader_engine
from bot.storage.models import OutboxMessage, ReplicaBeat, ScheduledRun


class HeartbeatStore:
    """One row per replica: its last beat, and when it stopped cleanly."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def beat(self, me: Heartbeat) -> None:
        """Record that `me` is alive at `me.seen_at` (the first beat creates its row)."""
        with self._sessions.begin() as session:
            row = session.get(ReplicaBeat, me.replica)
            if row is None:
                row = ReplicaBeat(replica=me.replica, host=me.host, pid=me.pid)
                row.started_at = me.started_at
                session.add(row)
            row.seen_at, row.stopped_at = me.seen_at, None

    def stopped(self, replica: str, now: datetime) -> None:
        """Record a clean stop, so the status view says "stopped" rather than "silent"."""
        with self._sessions.begin() as session:
            row = session.get(ReplicaBeat, replica)
            if row is not None:
                row.stopped_at = now

    def beats(self) -> list[Heartbeat]:
        """Every replica that ever beat here."""
        with self._sessions() as session:
            order = (ReplicaBeat.started_at, ReplicaBeat.replica)
            rows = session.scalars(select(ReplicaBeat).order_by(*order))
            return [
                Heartbeat(r.replica, r.host, r.pid, r.started_at, r.seen_at, r.stopped_at)
                for r in rows
            ]

    def prune(self, before: datetime) -> int:
        """Forget replicas last seen before `before`; returns how many."""
        with self._sessions.begin() as session:
            old = session.scalars(select(ReplicaBeat).where(ReplicaBeat.seen_at < before)).all()
            for row in old:
                session.delete(row)
            return len(old)

    def status(self, now: datetime) -> ReplicaStatus:
        """The replicas, the checks and messages each holds under a live lease, and the
        servers' own schedules (for the next checks)."""
        held: dict[str, list[Held]] = defaultdict(list)
        sending: dict[str, int] = {}
        with self._sessions() as session:
            runs = session.scalars(
                select(ScheduledRun)
                .where(ScheduledRun.state == "running", ScheduledRun.lease_until > now)
                .order_by(ScheduledRun.window_at, ScheduledRun.server)
            )
            for run in runs:
                if run.owner is not None and run.lease_until is not None:
                    held_run = Held(run.server, run.kind, run.window_at, run.lease_until)
                    held[run.owner].append(held_run)
            claims = session.execute(
                select(OutboxMessage.claimed_by, func.count())
                .where(OutboxMessage.state == "pending", OutboxMessage.lease_until > now)
                .group_by(OutboxMessage.claimed_by)
            )
            for owner, count in claims:
                if owner is not None:
                    sending[owner] = int(count)
        discovered = ScheduleStore(self._sessions).discovered()
        return ReplicaStatus(self.beats(), dict(held), sending, discovered)


def read_status(url: str, now: datetime) -> ReplicaStatus | None:
    """The status as stored, read without writing anything; None when there is no such database
    or it cannot be read (for `backupcheck status`)."""
    engine = reader_engine(url)
    if engine is None:
        return None
    try:
        return HeartbeatStore(sessionmaker(engine)).status(now)
    except SQLAlchemyError:  # unreachable, refused, or a database the bot never set up
        return None
    finally:
        engine.dispose()
