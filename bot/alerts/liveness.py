"""Each replica's heartbeat, the dead man's switch after each scheduling round, and the notice
the first replica up posts when every replica was down across a lead-time check."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.heartbeat_url import HeartbeatUrl
from bot.alerts.heartbeats import HeartbeatStore
from bot.alerts.outbox import enqueue
from bot.alerts.replicas import (
    BEAT,
    LOOKBACK,
    Heartbeat,
    MissedCheck,
    Outage,
    missed_checks,
    outage,
)
from bot.alerts.schedule.plan import SchedulePolicy
from bot.alerts.service import AlertService
from bot.slack.blocks import escape
from checks.i18n import Catalog

logger = logging.getLogger(__name__)


class Liveness:
    """Beats while the scheduler runs; after each round, calls the heartbeat URL and, once
    after start-up, tells the channel which checks nobody ran while all replicas were down."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        service: AlertService,
        channel: str,
        t: Catalog,
        replica: str,
        policy: SchedulePolicy,
        clock: Callable[[], datetime],
        url: HeartbeatUrl | None = None,
        every: timedelta = BEAT,
    ) -> None:
        self.store = HeartbeatStore(sessions)
        self._sessions = sessions
        self._service = service
        self._channel = channel
        self._t = t
        self.replica = replica
        self._policy = policy
        self._clock = clock
        self.url = url
        self._every = every
        self._started_at: datetime | None = None
        self._down: Outage | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Look for an outage before our own first beat, beat, and keep beating."""
        now = self._clock()
        self._started_at = now
        self._down = outage(self.store.beats(), self.replica, now)
        # After the outage is read: a restart makes a new id, and old ones would pile up.
        self.store.prune(now - LOOKBACK)
        self.beat()
        self._stop.clear()
        # A thread, not a scheduler job: busy check workers must not make a replica look dead.
        self._thread = threading.Thread(target=self._keep_beating, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and say so, so the status view shows a stop rather than a death."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.url is not None:
            self.url.wait(1.0)  # a last call under way may finish; shutdown does not wait on it
        try:
            self.store.stopped(self.replica, self._clock())
        except SQLAlchemyError:  # its beats just end: the others see it as silent
            logger.warning("could not record this replica's stop", exc_info=True)

    def beat(self) -> None:
        """Record this replica as alive now."""
        started = self._started_at or self._clock()
        host = socket.gethostname()[:253]
        self.store.beat(Heartbeat(self.replica, host, os.getpid(), started, self._clock()))

    def after_round(self) -> None:
        """A scheduling round succeeded: post the missed-check notices (once), then call the
        dead man's switch without waiting for it."""
        down, self._down = self._down, None
        if down is not None:
            self.announce(down)
        if self.url is not None:
            self.url.ping()

    def announce(self, down: Outage) -> list[MissedCheck]:
        """Enqueue one notice per check nobody ran during `down`; replicas coming up together
        enqueue each under the same key, so it is posted once."""
        schedule = self._service.schedule
        missed = missed_checks(
            self._service.inventory.resolved(),
            schedule.discovered(),
            schedule.runs(max(down.since, down.until - LOOKBACK)),
            down,
            self._policy.jitter,
            self._policy.grace,
        )
        t = self._t
        now = self._clock()
        with self._sessions.begin() as session:
            for check in missed:
                zone = self._service.zone(check.server)
                text = t.text(
                    "replicas.missed",
                    server=escape(check.server),
                    window=t.datetime(check.window_at.astimezone(zone)),
                    since=t.datetime(down.since.astimezone(zone)),
                    until=t.datetime(down.until.astimezone(zone)),
                )
                payload: dict[str, Any] = {"channel": self._channel, "text": text}
                enqueue(session, check.key, "chat.postMessage", payload, now)
        for check in missed:
            logger.warning(
                "missed the check of %s for the %s window: all replicas were down from %s to %s",
                check.server,
                check.window_at.isoformat(),
                down.since.isoformat(),
                down.until.isoformat(),
                extra={"host": check.server},
            )
        return missed

    def _keep_beating(self) -> None:
        every = self._every.total_seconds()
        while not self._stop.wait(every):
            try:
                self.beat()
            except SQLAlchemyError:  # the next beat tries again; STALE allows for a few
                logger.warning("could not record this replica's heartbeat", exc_info=True)
