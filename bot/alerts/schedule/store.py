"""Scheduled runs and discovered windows in the database, so a restart resumes the schedule."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Select, delete, make_url, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.schedule.plan import Job, RunRecord
from bot.storage.database import make_engine
from bot.storage.models import ScheduledRun, ServerWindow

Discovered = dict[str, tuple[datetime | None, datetime]]


class ScheduleStore:
    """Claims runs before they start (so none runs twice) and remembers servers' own schedules."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim(self, job: Job, now: datetime) -> bool:
        """Mark a job as running; False when it already ran, runs, or was given up as missed."""
        with self._sessions() as session:
            if session.scalar(_run_of(job)) is not None:
                return False
            session.add(
                ScheduledRun(
                    server=job.server,
                    window_at=job.window_at,
                    kind=job.kind,
                    due_at=job.run_at,
                    state="running",
                    started_at=now,
                )
            )
            try:
                session.commit()
            except IntegrityError:  # another worker claimed it first
                return False
            return True

    def recover(self) -> int:
        """At start-up: runs a killed process left unfinished may be claimed again."""
        with self._sessions.begin() as session:
            result = session.execute(delete(ScheduledRun).where(ScheduledRun.state == "running"))
            return int(getattr(result, "rowcount", 0) or 0)

    def finish(self, job: Job, now: datetime, state: str = "done") -> None:
        """Record that a claimed job ran (or, with state="missed", was given up)."""
        with self._sessions.begin() as session:
            run = session.scalar(_run_of(job))
            if run is None:
                run = ScheduledRun(
                    server=job.server,
                    window_at=job.window_at,
                    kind=job.kind,
                    due_at=job.run_at,
                    started_at=now,
                )
                session.add(run)
            run.state, run.finished_at = state, now

    def runs(self, since: datetime) -> list[RunRecord]:
        """Runs for windows at or after `since`."""
        with self._sessions() as session:
            rows = session.scalars(select(ScheduledRun).where(ScheduledRun.window_at >= since))
            return [RunRecord(r.server, r.window_at, r.kind, r.state, r.finished_at) for r in rows]

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
        with self._sessions.begin() as session:
            row = session.get(ServerWindow, server)
            if row is None:
                row = ServerWindow(server=server, refreshed_at=now)
                session.add(row)
            if not keep:
                row.discovered_at = next_backup_at
            row.refreshed_at = now

    def prune(self, before: datetime) -> int:
        """Forget runs for windows before `before`; returns how many."""
        with self._sessions.begin() as session:
            result = session.execute(delete(ScheduledRun).where(ScheduledRun.window_at < before))
            return int(getattr(result, "rowcount", 0) or 0)


def _run_of(job: Job) -> Select[ScheduledRun]:
    return select(ScheduledRun).where(
        ScheduledRun.server == job.server,
        ScheduledRun.window_at == job.window_at,
        ScheduledRun.kind == job.kind,
    )


def read_discovered(url: str) -> Discovered | None:
    """The servers' own schedules as the bot last stored them, read without writing anything
    (no migration, no new SQLite file); None when there is no such database or it cannot be read.

    For `backupcheck windows`, which shows the bot's plan without contacting any server."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        # Connecting would create a missing file; a fresh database knows no schedule anyway.
        if database in ("", ":memory:") or not Path(database).is_file():
            return None
    elif parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits for an unanswering host as long as TCP does; a terminal command should not.
        parsed = parsed.update_query_dict({"connect_timeout": "5"})
    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        return ScheduleStore(sessionmaker(engine)).discovered()
    except SQLAlchemyError:  # unreachable, refused, or a database the bot never set up
        return None
    finally:
        engine.dispose()
