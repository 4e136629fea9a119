"""The record of signed Slack requests already accepted, shared by every replica on a database.

Each accepted signature is one row keyed by its SHA-256: the first replica to insert it wins
the primary key, so two replicas handed one request at the same moment accept it once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import SeenRequest

logger = logging.getLogger(__name__)
# Rows past the window are deleted at most this often, not on every request.
PRUNE_EVERY_S = 30.0


class SeenRequestStore:
    """Insert-if-absent over `seen_requests`, pruning rows whose timestamp left the window."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._window_s = window_s
        self._clock = clock
        self._pruned_at = -float("inf")
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: int) -> bool | None:
        """True (and recorded) if no replica accepted this signature yet, False for a replay,
        None when the database could not be asked."""
        try:
            return self._insert(signature, timestamp)
        except SQLAlchemyError:
            logger.warning(
                "could not record a Slack request in the database; only this process's"
                " record of accepted requests applies to it",
                exc_info=True,
            )
            return None

    def _insert(self, signature: str, timestamp: int) -> bool:
        digest = hashlib.sha256(signature.encode("ascii")).hexdigest()
        now = self._clock()
        with self._sessions.begin() as session:
            if self._prune_due(now):
                cutoff = int(now - self._window_s)
                session.execute(delete(SeenRequest).where(SeenRequest.request_ts < cutoff))
            row = {"digest": digest, "request_ts": timestamp}
            # ON CONFLICT DO NOTHING: both dialects spell it alike, each with its own construct;
            # RETURNING yields the row only when this insert made it.
            if session.get_bind().dialect.name == "postgresql":
                pg = postgresql_insert(SeenRequest).values(row).on_conflict_do_nothing()
                made = session.scalars(pg.returning(SeenRequest.digest)).first()
            else:
                lite = sqlite_insert(SeenRequest).values(row).on_conflict_do_nothing()
                made = session.scalars(lite.returning(SeenRequest.digest)).first()
            return made is not None

    def _prune_due(self, now: float) -> bool:
        with self._lock:
            if now - self._pruned_at < PRUNE_EVERY_S:
                return False
            self._pruned_at = now
            return True
