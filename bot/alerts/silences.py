"""Silences: a server still checked, its results stored, but no alert posted until the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import Silence as SilenceRow


@dataclass(frozen=True)
class ActiveSilence:
    """Who silenced a server, and until when."""

    server: str
    until: datetime
    by: str


class SilenceStore:
    """Silences in the database; lifting one keeps it in the history."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, server: str, until: datetime, by: str, now: datetime) -> bool:
        """Silence a server until `until`; False (nothing changes) when a silence in force
        already lasts at least as long, so a short silence never cuts a maintenance one."""
        with self._sessions.begin() as session:
            active = _active(session, server, now)
            if any(row.until >= until for row in active):
                return False
            for row in active:
                row.lifted_by, row.lifted_at = by, now
            session.add(SilenceRow(server=server, until=until, created_by=by, created_at=now))
            return True

    def lift(self, server: str, by: str, now: datetime) -> bool:
        """End a server's silence; False when it was not silenced."""
        with self._sessions.begin() as session:
            rows = _active(session, server, now)
            for row in rows:
                row.lifted_by, row.lifted_at = by, now
            return bool(rows)

    def active(self, now: datetime) -> dict[str, ActiveSilence]:
        """Every server silenced at `now`."""
        with self._sessions() as session:
            rows = session.scalars(
                select(SilenceRow).where(SilenceRow.until > now, SilenceRow.lifted_at.is_(None))
            ).all()
            return {r.server: ActiveSilence(r.server, r.until, r.created_by) for r in rows}

    def of(self, server: str, now: datetime) -> ActiveSilence | None:
        """The server's silence at `now`, if any."""
        with self._sessions() as session:
            rows = _active(session, server, now)
            return ActiveSilence(server, rows[-1].until, rows[-1].created_by) if rows else None


def _active(session: Session, server: str, now: datetime) -> list[SilenceRow]:
    return list(
        session.scalars(
            select(SilenceRow)
            .where(
                SilenceRow.server == server,
                SilenceRow.until > now,
                SilenceRow.lifted_at.is_(None),
            )
            .order_by(SilenceRow.id)
        ).all()
    )
