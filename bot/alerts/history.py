"""Check results per volume, kept for the configured retention, and the pruning of old rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.schedule.store import reader_engine
from bot.storage.models import Alert, CheckResult, OutboxMessage
from checks.report import Report

# 30 days of a 6-hourly survey plus the lead-time checks is ~150 rows a volume: this bound keeps
# a server with many volumes whole and a runaway history from filling memory.
MAX_SERIES_ROWS = 20_000


@dataclass(frozen=True)
class Reading:
    """One volume's figures at one check, detached from the database."""

    checked_at: datetime
    volume_id: str
    volume_name: str | None
    status: str
    capacity_bytes: int
    free_bytes: int
    required_free_bytes: int | None


class History:
    """Writes one row per volume (or one per host when nothing was collected) per check."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, report: Report) -> None:
        """Store a check's figures."""
        rows = [
            CheckResult(
                server=report.host,
                checked_at=report.checked_at,
                host_status=report.status.value,
                volume_id=v.id,
                volume_name=v.name,
                status=v.status.value,
                capacity_bytes=v.capacity_bytes,
                free_bytes=v.free_bytes,
                required_free_bytes=v.required_free_bytes,
            )
            for v in report.volumes
        ] or [
            CheckResult(
                server=report.host,
                checked_at=report.checked_at,
                host_status=report.status.value,
                status=report.status.value,
            )
        ]
        with self._sessions.begin() as session:
            session.add_all(rows)

    def of(self, server: str) -> list[CheckResult]:
        """A server's stored results, oldest first."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(CheckResult)
                    .where(CheckResult.server == server)
                    .order_by(CheckResult.checked_at, CheckResult.id)
                ).all()
            )

    def series(
        self,
        server: str,
        since: datetime,
        volume_id: str | None = None,
        limit: int = MAX_SERIES_ROWS,
    ) -> list[Reading]:
        """A server's volume figures since `since` (one volume's with `volume_id`), oldest first;
        at most `limit` rows, the newest ones when there are more."""
        query = select(CheckResult).where(
            CheckResult.server == server,
            CheckResult.checked_at >= since,
            CheckResult.volume_id.is_not(None),
            CheckResult.capacity_bytes.is_not(None),
            CheckResult.free_bytes.is_not(None),
        )
        if volume_id is not None:
            query = query.where(CheckResult.volume_id == volume_id)
        query = query.order_by(CheckResult.checked_at.desc(), CheckResult.id.desc()).limit(limit)
        with self._sessions() as session:
            rows = session.scalars(query).all()
            return [
                Reading(
                    r.checked_at,
                    r.volume_id or "",
                    r.volume_name,
                    r.status,
                    r.capacity_bytes or 0,
                    r.free_bytes or 0,
                    r.required_free_bytes,
                )
                for r in reversed(rows)
            ]

    def prune(self, before: datetime) -> int:
        """Delete results, alerts of past windows and delivered messages older than `before`."""
        with self._sessions.begin() as session:
            deleted = 0
            for statement in (
                delete(CheckResult).where(CheckResult.checked_at < before),
                delete(OutboxMessage).where(
                    OutboxMessage.state != "pending", OutboxMessage.created_at < before
                ),
                delete(Alert).where(Alert.window_at < before),
            ):
                deleted += int(getattr(session.execute(statement), "rowcount", 0) or 0)
            return deleted


def read_series(url: str, server: str, since: datetime) -> list[Reading] | None:
    """A server's volume figures since `since`, read without writing anything (no migration, no
    new SQLite file); None when there is no such database or it cannot be read."""
    engine = reader_engine(url)
    if engine is None:
        return None
    try:
        return History(sessionmaker(engine)).series(server, since)
    except SQLAlchemyError:  # unreachable, refused, or a database the bot never set up
        return None
    finally:
        engine.dispose()
