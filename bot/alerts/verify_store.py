"""Each server's verified windows in the database, beside what the check before each said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.verdict import WindowVerdict
from bot.storage.models import Alert, CheckResult, WindowOutcome


@dataclass(frozen=True)
class StoredOutcome:
    """One verified window: the pre-check's status, the verdict, and its alert if any."""

    server: str
    window_at: datetime
    precheck: str | None
    verdict: WindowVerdict
    alert_id: int | None
    decided_at: datetime
    acknowledged_by: str | None = None
    # From the alert's opening to its acknowledgement.
    acknowledged_after: timedelta | None = None


class OutcomeStore:
    """Writes a window's verdict once; reads them back for a server's history."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self,
        server: str,
        window_at: datetime,
        verdict: WindowVerdict,
        alert_id: int | None,
        now: datetime,
    ) -> bool:
        """Store the window's verdict with the status of the last check before the window;
        False when it was stored already (a replica that took a verification over)."""
        with self._sessions() as session:
            precheck = session.scalar(
                select(CheckResult.host_status)
                .where(CheckResult.server == server, CheckResult.checked_at < window_at)
                .order_by(CheckResult.checked_at.desc(), CheckResult.id.desc())
                .limit(1)
            )
            session.add(
                WindowOutcome(
                    server=server,
                    window_at=window_at,
                    precheck=precheck,
                    kind=verdict.kind.value,
                    verdict=verdict.to_json(),
                    alert_id=alert_id,
                    decided_at=now,
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return False
            return True

    def prune(self, before: datetime) -> int:
        """Forget the verdicts of windows before `before`; returns how many."""
        with self._sessions.begin() as session:
            result = session.execute(delete(WindowOutcome).where(WindowOutcome.window_at < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def of(self, server: str, limit: int = 14) -> list[StoredOutcome]:
        """The server's latest verified windows, newest first, with who acknowledged their
        alerts and how long after the alert was opened."""
        with self._sessions() as session:
            rows = session.execute(
                select(WindowOutcome, Alert)
                .outerjoin(Alert, Alert.id == WindowOutcome.alert_id)
                .where(WindowOutcome.server == server)
                .order_by(WindowOutcome.window_at.desc())
                .limit(limit)
            ).all()
            return [_outcome(row, alert) for row, alert in rows]


def _outcome(row: WindowOutcome, alert: Alert | None) -> StoredOutcome:
    taken = alert.acknowledged_at if alert is not None else None
    return StoredOutcome(
        row.server,
        row.window_at,
        row.precheck,
        WindowVerdict.from_json(row.verdict),
        row.alert_id,
        row.decided_at,
        alert.acknowledged_by if alert is not None else None,
        taken - alert.created_at if alert is not None and taken is not None else None,
    )
