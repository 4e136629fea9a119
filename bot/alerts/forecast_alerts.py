"""The morning forecast of one server: reads its volumes' history, forecasts, and opens, updates
or resolves its forecast alert through the alert store (and so the outbox). The decisions are
forecast_notice.py's; this module only moves data in and out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.forecast_notice import (
    VolumeSeries,
    at_risk,
    backup_windows,
    forecast_only,
    forecast_report,
    on_forecast,
    target_window,
    windows_to_decide,
)
from bot.alerts.lifecycle import Transition
from bot.alerts.service import AlertService
from bot.alerts.store import StoredAlert
from bot.alerts.volume_trends import volume_series
from bot.storage.models import CheckResult
from checks.forecast import Policy
from checks.i18n import Catalog
from checks.inventory import Server
from checks.report import Report
from checks.windows import jitter_for

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# A server surveyed every hour with 50 volumes for the 14-day lookback, with room to spare.
MAX_ROWS = 50_000


@dataclass(frozen=True)
class AtRiskAlert:
    """The forecast alert this morning put (or kept) at risk, and the volumes that put it there."""

    alert_id: int
    server: Server
    window_at: datetime
    volumes: tuple[tuple[str, datetime], ...]  # each volume at risk and its first window at risk
    now: datetime


class ForecastAlerts:
    """Decides each server's forecast alert once a morning (the forecast job calls it)."""

    def __init__(
        self,
        service: AlertService,
        sessions: sessionmaker[Session],
        catalog: Catalog,
        horizon: timedelta,
        jitter: timedelta,
        clock: Clock,
        policy: Policy | None = None,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._t = catalog
        self._horizon = horizon
        self._jitter = jitter
        self._clock = clock
        self._policy = policy or Policy()

    def __call__(self, server: Server) -> AtRiskAlert | None:
        """Forecast the server's volumes and open, update or resolve its forecast alert;
        returns the alert at risk, when this morning stored one."""
        now = self._clock()
        service = self._service
        volumes = self.series(server.name, now - self._policy.lookback, now)
        discovered, _ = service.schedule.discovered().get(server.name, (None, None))
        windows = backup_windows(server, discovered, now, now + self._horizon)
        lead = timedelta(minutes=server.lead_time_min) + jitter_for(server.name, self._jitter)
        outlook = at_risk(volumes, windows, now, self._horizon, lead, self._policy)
        risks = outlook.risks
        target = target_window(risks)
        zone = service.configured_zone(server.name)
        shown = zone or service.zone(server.name)
        at_target = forecast_report(server.name, now, volumes, risks, self._horizon, self._t, shown)
        clear = forecast_report(server.name, now, volumes, [], self._horizon, self._t, shown)
        silenced = service.silences.of(server.name, now) is not None
        open_windows = [
            s.alert.window_at
            for s in service.alerts.unresolved(after=now)
            if s.alert.server == server.name and forecast_only(s.alert)
        ]
        found = None
        for window in windows_to_decide(open_windows, target):
            report = at_target if window == target else clear
            decide = _deciding(report, window, now, silenced, outlook.undecided)
            alert_id = service.alerts.apply(
                server.name, window, decide, self._t, "forecast", None, now, zone
            )
            if alert_id is not None:
                logger.info(
                    "%s: forecast for the %s window: %s",
                    server.name,
                    window.isoformat(),
                    "at risk" if report.findings else "clear",
                    extra={"host": server.name, "alert_id": alert_id},
                )
            if alert_id is not None and window == target and report.findings:
                pairs = tuple((r.volume.volume_id, r.window.at) for r in risks)
                found = AtRiskAlert(alert_id, server, window, pairs, now)
        return found

    def series(self, server: str, since: datetime, now: datetime) -> list[VolumeSeries]:
        """Each volume's readings since `since`, for the volumes rule 2 last asked space of."""
        with self._sessions() as session:
            rows = session.scalars(
                select(CheckResult)
                .where(
                    CheckResult.server == server,
                    CheckResult.checked_at >= since,
                    CheckResult.checked_at <= now,
                    CheckResult.volume_id.is_not(None),
                    CheckResult.capacity_bytes.is_not(None),
                    CheckResult.free_bytes.is_not(None),
                )
                .order_by(CheckResult.checked_at.desc(), CheckResult.id.desc())
                .limit(MAX_ROWS)
            ).all()
        return volume_series(reversed(rows))  # oldest first


def _deciding(
    report: Report, window: datetime, now: datetime, silenced: bool, undecided: frozenset[str]
) -> Callable[[StoredAlert | None], tuple[Transition, Report] | None]:
    def decide(stored: StoredAlert | None) -> tuple[Transition, Report] | None:
        alert = stored.alert if stored else None
        transition = on_forecast(alert, report, window, now, silenced, undecided)
        return (transition, report) if transition.effects else None

    return decide
