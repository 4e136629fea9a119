"""Renews the leases of the jobs this replica runs, on a thread of its own: renewals must go on
while the check workers are busy and while a shutdown waits for them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.schedule.store import ScheduleStore

logger = logging.getLogger(__name__)


class Renewal:
    """Every third of the lease, extends the leases `replica` holds while `busy()` says it
    runs something: two renewals may fail (a slow database) before a lease runs out."""

    def __init__(
        self,
        store: ScheduleStore,
        replica: str,
        lease: timedelta,
        clock: Callable[[], datetime],
        busy: Callable[[], bool],
    ) -> None:
        self._store = store
        self._replica = replica
        self._lease = lease
        self._clock = clock
        self._busy = busy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Renew from now on, until stop()."""
        self._thread = threading.Thread(target=self._keep, name="leases", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Renew no more; waits (up to `timeout` s) for a renewal under way, which must not
        land after the leases are handed back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def renew(self) -> int:
        """Extend the leases now (when something runs); returns how many."""
        if not self._busy():
            return 0
        return self._store.renew(self._replica, self._clock(), self._lease)

    def _keep(self) -> None:
        while not self._stop.wait(self._lease.total_seconds() / 3):
            try:
                self.renew()
            except SQLAlchemyError:  # the next round tries again; the lease covers the gap
                logger.warning("could not renew the leases of running checks", exc_info=True)
