"""Check results per volume, kept for the configured retention, and the pruning of old rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import Alert, CheckResult, OutboxMessage
from checks.report import Report


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
