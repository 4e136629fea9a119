"""Each volume's trend for a check's report, from the stored history the forecast alerts read,
and whether an alert says the volume is draining. Pure: readings and `now` in, data out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.alerts.forecast_notice import VolumeSeries
from checks.forecast import ForecastState, Observation, Policy, forecast_volume
from checks.report import Report, VolumeTrend
from checks.units import MB

# Under 1 MB a day nothing a day's backup notices: `backupcheck forecast` calls it steady too.
NOTABLE_PER_DAY = 1 * MB
# The forecast alerts' policy (14 days of history) and forecast.horizon_days' default.
TREND_POLICY = Policy()
TREND_HORIZON = timedelta(days=7)


class Reading(Protocol):
    """One stored reading of a volume (bot.alerts.history.Reading, or a stored row)."""

    @property
    def checked_at(self) -> datetime: ...
    @property
    def volume_id(self) -> str | None: ...
    @property
    def volume_name(self) -> str | None: ...
    @property
    def capacity_bytes(self) -> int | None: ...
    @property
    def free_bytes(self) -> int | None: ...
    @property
    def required_free_bytes(self) -> int | None: ...


def volume_series(readings: Iterable[Reading]) -> list[VolumeSeries]:
    """Readings, oldest first, grouped per volume; only the volumes rule 2 last asked space of
    (snapshotted, or hosting a diff area), with that demand as their minimum."""
    grouped: dict[str, list[Reading]] = {}
    for reading in readings:
        known = reading.capacity_bytes is not None and reading.free_bytes is not None
        if reading.volume_id and known:
            grouped.setdefault(reading.volume_id, []).append(reading)
    found = []
    for volume_id, rows in grouped.items():
        last = rows[-1]
        if last.required_free_bytes is None:
            continue
        history = tuple(
            Observation(r.checked_at, int(r.capacity_bytes or 0), int(r.free_bytes or 0))
            for r in rows
        )
        name = last.volume_name or volume_id
        found.append(VolumeSeries(volume_id, name, history, last.required_free_bytes))
    return found


def volume_trends(
    volumes: Iterable[VolumeSeries],
    now: datetime,
    horizon: timedelta,
    policy: Policy = TREND_POLICY,
) -> dict[str, VolumeTrend]:
    """The trend of each volume the forecaster will forecast, by volume id; a volume with too
    little history, or too erratic a one, has none (it says nothing rather than guess)."""
    found = {}
    for volume in volumes:
        result = forecast_volume(volume.history, (), now, horizon, volume.minimum_bytes, policy)
        if result.state is not ForecastState.FORECAST or result.trend is None:
            continue
        found[volume.volume_id] = VolumeTrend(
            free_bytes_per_day=round(result.trend.free_bytes_per_day),
            since=result.trend.since,
            below_minimum_at=result.below_minimum_at,
            below_recommended_at=result.below_recommended_at,
        )
    return found


def with_trends(report: Report, trends: Mapping[str, VolumeTrend]) -> Report:
    """The report with each volume's trend where one is known."""
    if not any(v.id in trends for v in report.volumes):
        return report
    volumes = [
        v.model_copy(update={"trend": trends[v.id]}) if v.id in trends else v
        for v in report.volumes
    ]
    return report.model_copy(update={"volumes": volumes})


@dataclass(frozen=True)
class _Seen:
    """A volume's figures in the report at hand, as a reading."""

    checked_at: datetime
    volume_id: str
    volume_name: str | None
    capacity_bytes: int
    free_bytes: int
    required_free_bytes: int | None


def report_trends(
    report: Report,
    readings: Sequence[Reading],
    horizon: timedelta,
    policy: Policy = TREND_POLICY,
) -> Report:
    """The report with its volumes' trends as of its check: from the stored readings before it
    (oldest first) and its own figures, which the store may not hold yet."""
    at = report.checked_at
    own = [
        _Seen(at, v.id, v.name, v.capacity_bytes, v.free_bytes, v.required_free_bytes)
        for v in report.volumes
    ]
    earlier = [r for r in readings if r.checked_at < report.checked_at]
    series = volume_series([*earlier, *own])
    return with_trends(report, volume_trends(series, report.checked_at, horizon, policy))


def falling_per_day(report: Report, volume_id: str | None) -> int | None:
    """How many bytes a day the volume's free space has been falling, when it clearly falls."""
    volume = next((v for v in report.volumes if v.id == volume_id), None)
    if volume is None or volume.trend is None:
        return None
    rate = -volume.trend.free_bytes_per_day
    return rate if rate >= NOTABLE_PER_DAY else None
