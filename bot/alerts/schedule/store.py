"""Scheduled runs and discovered windows in the database, so a restart resumes the schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, delete, make_url, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.schedule.leases import Claim, Decision, Key, Verdict, decide, key_of
from bot.alerts.schedule.plan import Job, RunRecord
from bot.storage.database import make_engine
from bot.storage.models import ScheduledRun, ServerWindow

Discovered = dict[str, tuple[datetime | None, datetime]]


class ScheduleStore:
    """Claims runs before they start, leased to one replica (so none runs twice and a dead
    replica's are taken over), and remembers servers' own schedules."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim(self, job: Job | Key, now: datetime, replica: str, lease: timedelta) -> Decision:
        """Claim a job's run for `replica` (or take it over from one whose lease ran out), give
        it up when its deadline passed, or say when to look again."""
        key = _key(job)
        # Optimistic: read, decide, then write only if nobody wrote first (the unique row for a
        # new claim, `lease_until <= now` for a takeover). A lost race reads the winner's lease.
        for _ in range(2):
            with self._sessions() as session:
                row = session.scalar(_run_of(key))
                stored = Claim(row.owner, row.lease_until, row.state) if row is not None else None
                decision = decide(stored, now, key.deadline, lease)
                if decision.verdict is Verdict.LEAVE:
                    return decision
                values: dict[str, Any] = {"state": "running", "owner": replica}
                values |= {"lease_until": decision.until, "started_at": now}
                if decision.verdict is Verdict.GIVE_UP:
                    values = {"state": "missed", "owner": None, "finished_at": now}
                if row is None:
                    session.add(_new_run(key, now, **values))
                elif not _took(session, row.id, now, **values):
                    continue
                try:
                    session.commit()
                except IntegrityError:  # another replica inserted it first
                    continue
                return decision
        # Two lost races in a row: someone holds it; look again once a lease could have ended.
        return Decision(Verdict.LEAVE, now + lease)

    def finish(self, job: Job | Key, now: datetime) -> None:
        """Record that a claimed job ran."""
        key = _key(job)
        with self._sessions.begin() as session:
            run = session.scalar(_run_of(key))
            if run is None:  # pruned while it ran
                run = _new_run(key, now, state="done")
                session.add(run)
            run.state, run.finished_at = "done", now

    def withdraw(self, key: Key, replica: str) -> None:
        """Forget `replica`'s claim on a job that failed, so that it may be claimed afresh
        (by the next round, not at once: a failure repeated at once would be a loop)."""
        with self._sessions.begin() as session:
            session.execute(
                delete(ScheduledRun).where(
                    *_is(key), ScheduledRun.owner == replica, ScheduledRun.state == "running"
                )
            )

    def park(self, key: Key, replica: str, until: datetime) -> None:
        """Keep `replica`'s claim unfinished but held by nobody until `until` (a verification
        between two readings): then any replica may take it, as after a lapsed lease."""
        with self._sessions.begin() as session:
            session.execute(
                update(ScheduledRun)
                .where(*_is(key), ScheduledRun.owner == replica, ScheduledRun.state == "running")
                .values(owner=None, lease_until=until)
            )

    def give_up(self, job: Job, now: datetime) -> bool:
        """Record a job as missed, unless it finished or a replica holds a live lease on it."""
        key = _key(job)
        with self._sessions() as session:
            row = session.scalar(_run_of(key))
            if row is None:
                session.add(_new_run(key, now, state="missed", finished_at=now))
            elif row.state != "running" or not _took(
                session, row.id, now, state="missed", finished_at=now
            ):
                return False
            try:
                session.commit()
            except IntegrityError:  # claimed meanwhile
                return False
            return True

    def renew(self, replica: str, now: datetime, lease: timedelta) -> int:
        """Extend the leases of every run `replica` is running; returns how many."""
        return self._set_leases(replica, now + lease)

    def release(self, replica: str, now: datetime) -> int:
        """Hand back `replica`'s unfinished runs, so another replica may take them at once."""
        return self._set_leases(replica, now)

    def free(self, replica: str, now: datetime) -> set[tuple[str, str, datetime]]:
        """(server, kind, window) of the runs another replica handed back or let lapse: free
        for anyone to take over now."""
        with self._sessions() as session:
            rows = session.execute(
                select(ScheduledRun.server, ScheduledRun.kind, ScheduledRun.window_at).where(
                    ScheduledRun.state == "running",
                    ScheduledRun.lease_until <= now,
                    ScheduledRun.owner != replica,
                )
            )
            return {(server, kind, window_at) for server, kind, window_at in rows}

    def recover(self) -> int:
        """At start-up on SQLite (one process per file): the runs a killed process left
        unfinished may be claimed again at once. Replicas on PostgreSQL wait for the lease."""
        with self._sessions.begin() as session:
            if session.get_bind().dialect.name != "sqlite":
                return 0
            result = session.execute(delete(ScheduledRun).where(ScheduledRun.state == "running"))
            return int(getattr(result, "rowcount", 0) or 0)

    def _set_leases(self, replica: str, until: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                update(ScheduledRun)
                .where(ScheduledRun.owner == replica, ScheduledRun.state == "running")
                .values(lease_until=until)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def runs(self, since: datetime) -> list[RunRecord]:
        """Runs for windows at or after `since`."""
        with self._sessions() as session:
            rows = session.scalars(select(ScheduledRun).where(ScheduledRun.window_at >= since))
            return [
                RunRecord(r.server, r.window_at, r.kind, r.state, r.finished_at, r.lease_until)
                for r in rows
            ]

    def discovered(self) -> Discovered:
        """Each server's next run as it last reported it, and when that was."""
        with self._sessions() as session:
            rows = session.scalars(select(ServerWindow))
            return {r.server: (r.discovered_at, r.refreshed_at) for r in rows}

    def remember(
        self, server: str, next_backup_at: datetime | None, now: datetime, keep: bool = False
    ) -> None:
        """Store what a check learnt about the server's own schedule (keep: it learnt nothing,
        so the known schedule stays and only the time of asking moves)."""
        changes: dict[str, Any] = {"refreshed_at": now}
        if not keep:
            changes["discovered_at"] = next_backup_at
        row = {"server": server, "discovered_at": None, **changes}
        # One upsert: replicas checking the same server at once (a survey beside a forecast,
        # say) would otherwise both find no row and both insert it.
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(ServerWindow)
                .values(row)
                .on_conflict_do_update(index_elements=[ServerWindow.server], set_=changes)
            )

    def prune(self, before: datetime) -> int:
        """Forget runs for windows before `before`; returns how many."""
        with self._sessions.begin() as session:
            result = session.execute(delete(ScheduledRun).where(ScheduledRun.window_at < before))
            return int(getattr(result, "rowcount", 0) or 0)


def _key(job: Job | Key) -> Key:
    return job if isinstance(job, Key) else key_of(job)


def _new_run(key: Key, now: datetime, **values: Any) -> ScheduledRun:
    fields = {"started_at": now, **values}
    return ScheduledRun(
        server=key.server, window_at=key.at, kind=key.kind, due_at=key.due_at, **fields
    )


def _took(session: Session, run_id: int, now: datetime, **values: Any) -> bool:
    """Update a running run whose lease ran out (or that never had one); False when another
    replica renewed, took or finished it since it was read."""
    result = session.execute(
        update(ScheduledRun)
        .where(
            ScheduledRun.id == run_id,
            ScheduledRun.state == "running",
            or_(ScheduledRun.lease_until.is_(None), ScheduledRun.lease_until <= now),
        )
        .values(**values)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _is(key: Key) -> tuple[ColumnElement[bool], ...]:
    return (
        ScheduledRun.server == key.server,
        ScheduledRun.window_at == key.at,
        ScheduledRun.kind == key.kind,
    )


def _run_of(key: Key) -> Select[ScheduledRun]:
    return select(ScheduledRun).where(*_is(key))


def read_discovered(url: str) -> Discovered | None:
    """The servers' own schedules as the bot last stored them, read without writing anything
    (no migration, no new SQLite file); None when there is no such database or it cannot be read.

    For `backupcheck windows`, which shows the bot's plan without contacting any server."""
    engine = reader_engine(url)
    if engine is None:
        return None
    try:
        return ScheduleStore(sessionmaker(engine)).discovered()
    except SQLAlchemyError:  # unreachable, refused, or a database the bot never set up
        return None
    finally:
        engine.dispose()


def reader_engine(url: str) -> Engine | None:
    """An engine for the terminal's read-only views; None for a SQLite file that does not exist
    (connecting would create it, and a fresh database holds nothing to show)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            return None
    elif parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits for an unanswering host as long as TCP does; a terminal command should not.
        parsed = parsed.update_query_dict({"connect_timeout": "5"})
    return make_engine(parsed.render_as_string(hide_password=False))
