"""Each server's verified windows in the database, beside what the check before each said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.verdict import WindowVerdict
from bot.storage.models import CheckResult, WindowOutcome


@dataclass(frozen=True)
class StoredOutcome:
    """One verified window: the pre-check's status, the verdict, and its alert if any."""

    server: str
    window_at: datetime
    precheck: str | None
    verdict: WindowVerdict
    alert_id: int | None
    decided_at: datetime


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
        """The server's latest verified windows, newest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(WindowOutcome)
                .where(WindowOutcome.server == server)
                .order_by(WindowOutcome.window_at.desc())
                .limit(limit)
            ).all()
            return [
                StoredOutcome(
                    r.server,
                    r.window_at,
                    r.precheck,
                    WindowVerdict.from_json(r.verdict),
                    r.alert_id,
                    r.decided_at,
                )
                for r in rows
            ]
