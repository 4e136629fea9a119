"""Posts the weekly summary (summary.weekly_at) through the outbox, once per week across
replicas: the week's moment is claimed like retention's day (schedule/leases.py), and the
message's idempotency key is the moment, so a replica taking a lapsed claim over posts nothing
twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.history import History
from bot.alerts.outbox import enqueue
from bot.alerts.schedule.leases import EVERYWHERE, Key
from bot.alerts.schedule.store import ScheduleStore
from bot.alerts.summary import (
    LATE_BY,
    WEEK,
    Headroom,
    WeeklySummary,
    last_moment,
    parse_weekly_at,
    summary_text,
    weekly_summary,
)
from bot.alerts.verify_store import OutcomeStore, StoredOutcome
from bot.config import Config
from checks.i18n import Catalog
from checks.inventory import Inventory

logger = logging.getLogger(__name__)

SUMMARY = "summary"  # the claim's kind
# The volumes' latest figures are those of the last two days: a server not read since is not
# "closest to its floor", it is unknown (its alerts say so).
RECENT = timedelta(days=2)
# Windows per server read for one week: four a day is more than anyone schedules.
MAX_WINDOWS = 28


class WeeklySummaryJob:
    """Checks every few minutes whether this week's summary is due, and posts it once."""

    def __init__(
        self,
        config: Config,
        sessions: sessionmaker[Session],
        t: Catalog,
        clock: Callable[[], datetime],
        replica: str,
        lease: timedelta,
    ) -> None:
        parsed = parse_weekly_at(config.summary.weekly_at or "")
        if parsed is None:
            raise ValueError("summary.weekly_at is not set")
        self._weekday, self._at = parsed
        self._zone = ZoneInfo(config.summary.timezone)
        self._channel = config.summary.channel or config.alerts.channel
        self._inventory: Inventory = config
        self._sessions, self._t, self._clock = sessions, t, clock
        self._replica, self._lease = replica, lease
        self._claims = ScheduleStore(sessions)

    def run_due(self) -> WeeklySummary | None:
        """Post this week's summary if it is due and no replica has; what was posted, else
        None. A database error is logged and tried again at the next call."""
        try:
            return self._run_due()
        except SQLAlchemyError:
            logger.warning("the weekly summary could not be read or queued", exc_info=True)
            return None

    def _run_due(self) -> WeeklySummary | None:
        now = self._clock()
        moment = last_moment(now, self._weekday, self._at, self._zone)
        if now >= moment + LATE_BY:
            return None
        key = Key(EVERYWHERE, SUMMARY, moment, moment + LATE_BY, now)
        if not self._claims.claim(key, now, self._replica, self._lease).runs:
            return None
        summary = self.summary(moment - WEEK, moment, now)
        payload = {"channel": self._channel, "text": summary_text(summary, self._zone, self._t)}
        with self._sessions.begin() as session:
            enqueue(session, f"summary/{moment.isoformat()}", "chat.postMessage", payload, now)
        self._claims.finish(key, now)
        logger.info("weekly summary queued for %s", moment.isoformat())
        return summary

    def summary(self, since: datetime, until: datetime, now: datetime) -> WeeklySummary:
        """The figures of the windows in [since, until) and of every volume's latest check."""
        outcomes, history = OutcomeStore(self._sessions), History(self._sessions)
        windows: list[StoredOutcome] = []
        volumes: list[Headroom] = []
        for server in self._inventory.resolved():
            found = outcomes.of(server.name, MAX_WINDOWS)
            windows += [w for w in found if since <= w.window_at < until]
            latest = {r.volume_id: r for r in history.series(server.name, now - RECENT)}
            volumes += [
                Headroom(
                    server.name,
                    (r.volume_name or r.volume_id).rstrip("\\"),
                    r.free_bytes,
                    r.required_free_bytes,
                )
                for r in latest.values()
                if r.required_free_bytes is not None
            ]
        return weekly_summary(windows, volumes, since, until)
