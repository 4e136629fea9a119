"""The trend `check` adds to each volume from the bot's stored history, when there is one.

SQLAlchemy is imported only once a database is known to exist, so that a `check` without the
bot's history starts as light as ever (tests/bot/terminal/test_startup.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config
from checks.report import Report


def with_stored_trends(settings: Config, reports: list[Report]) -> list[Report]:
    """The reports with their volumes' trends; unchanged without a readable history."""
    from bot.terminal.windows import may_exist

    if not any(r.volumes for r in reports) or not may_exist(settings.storage.url):
        return reports
    # Imported here: SQLAlchemy would slow every other command by a second.
    from bot.alerts.history import read_series
    from bot.alerts.volume_trends import TREND_POLICY, report_trends

    horizon = timedelta(days=settings.forecast.horizon_days)
    found = []
    for report in reports:
        readings = None
        if report.volumes:
            since = report.checked_at - TREND_POLICY.lookback
            readings = read_series(settings.storage.url, report.host, since)
        if readings is None:
            found.append(report)
        else:
            found.append(report_trends(report, readings, horizon, TREND_POLICY))
    return found
