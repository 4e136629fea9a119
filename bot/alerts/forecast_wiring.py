"""Survey checks and forecast alerts from the configuration's `forecast:` section."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.forecast_alerts import ForecastAlerts
from bot.alerts.forecast_charts import ForecastCharts, ForecastJob
from bot.alerts.outbox import Outbox
from bot.alerts.schedule.survey import ForecastTiming
from bot.alerts.service import AlertService
from bot.config import Config, ForecastSettings
from bot.i18n import catalog


def forecast_timing(settings: ForecastSettings) -> ForecastTiming | None:
    """When surveys and forecasts run; None when forecasting is off."""
    if not settings.enabled:
        return None
    return ForecastTiming(
        survey_every=timedelta(hours=settings.survey_every_h),
        notify_at=time.fromisoformat(settings.notify_at),
        days=tuple(settings.days),
    )


def forecast_alerts(
    config: Config,
    service: AlertService,
    sessions: sessionmaker[Session],
    jitter: timedelta,
    clock: Callable[[], datetime],
    outbox: Outbox,
    client: WebClient,
) -> ForecastJob | None:
    """The forecast job's decisions and charts (uploaded with `client`, into the threads of the
    messages `outbox` posts); None when forecasting is off."""
    settings = config.forecast
    if not settings.enabled:
        return None
    horizon = timedelta(days=settings.horizon_days)
    t = catalog(config.language)
    alerts = ForecastAlerts(service, sessions, t, horizon, jitter, clock)
    return ForecastJob(alerts, ForecastCharts(sessions, outbox, client, service, t, horizon))
