"""`backupcheck forecast` output: a rich table for people, and JSON for scripts. Pure: results
in, a table or a document out; times in the zone asked for, labelled."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.markup import escape
from rich.table import Table

from bot.display import inert_json, visible
from bot.trend_text import per_day
from checks.forecast import ForecastState, Trend, VolumeForecast, WindowForecast
from checks.i18n import Catalog, zone_label
from checks.report import Status

FORECAST_SCHEMA_VERSION: Literal[1] = 1
Results = Sequence[tuple[str, VolumeForecast]]


def zone_name(zone: tzinfo, at: datetime) -> str:
    """An IANA name when the zone has one, else its offset at that moment (+09:00, or UTC)."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    return zone_label(at.astimezone(zone)).strip("()").removeprefix("UTC") or "UTC"


def volume_status(result: VolumeForecast, windows_given: bool) -> Status:
    """The windows' worst; with none given, the worst the line reaches within the horizon."""
    return result.status if windows_given else result.horizon_status


def forecast_table(
    results: Results, until: datetime, zone: tzinfo, windows_given: bool, t: Catalog
) -> Table:
    """One row per volume, worst first."""
    table = Table(
        title=t.text("forecast.title", until=t.datetime(until, zone)), title_justify="left"
    )
    failing = "first_failing" if windows_given else "falls_below"
    for key in ("volume", "free", "trend", failing, "to_free"):
        table.add_column(t.text(f"forecast.{key}"))
    table.add_column(t.text("table.status"))
    for name, result in results:
        table.add_row(escape(visible(name)), *figures(result, zone, windows_given, t))
    return table


def figures(result: VolumeForecast, zone: tzinfo, windows_given: bool, t: Catalog) -> list[str]:
    """A volume's row after its name: free, trend, failing window (or crossings), to free,
    status; as plain text (rich markup escaped by the caller's table, never added here)."""
    return [
        t.size(result.free_bytes) if result.free_bytes is not None else t.text("table.none"),
        _trend(result, zone, t),
        _failing(result, zone, t) if windows_given else _crossings(result, zone, t),
        _to_free(result, t),
        t.text(f"status.{volume_status(result, windows_given)}"),
    ]


def _trend(result: VolumeForecast, zone: tzinfo, t: Catalog) -> str:
    trend = result.trend
    if result.state is ForecastState.NOT_ENOUGH_HISTORY or trend is None:
        return t.text(
            "forecast.not_enough_history",
            points=result.points,
            hours=t.number(result.span / timedelta(hours=1), "#,##0"),
        )
    text = per_day(trend.free_bytes_per_day, t)
    if result.state is ForecastState.POOR_FIT:
        return t.text("forecast.poor_fit", trend=text)
    if result.step_at is not None and trend.since >= result.step_at:
        return t.text("forecast.restarted", trend=text, when=t.datetime(result.step_at, zone))
    return text


def _failing(result: VolumeForecast, zone: tzinfo, t: Catalog) -> str:
    """The first window below the recommendation, and the first below the minimum if later."""
    if result.state is not ForecastState.FORECAST:
        return t.text("table.none")
    lines = []
    for window in dict.fromkeys((result.first_failing, result.first_critical)):
        if window is not None:
            key = f"forecast.window_{window.status}"
            when = t.datetime(window.at, zone)
            lines.append(t.text(key, when=when, free=t.size(window.free_bytes)))
    return "\n".join(lines) or t.text("forecast.no_failing_window")


def _crossings(result: VolumeForecast, zone: tzinfo, t: Catalog) -> str:
    """When the line falls below the recommendation and the minimum, within the horizon."""
    if result.state is not ForecastState.FORECAST:
        return t.text("table.none")
    lines = [
        t.text(key, when=t.datetime(at, zone), size=t.size(threshold))
        for key, at, threshold in (
            ("forecast.crosses", result.below_recommended_at, result.recommended_bytes),
            ("forecast.crosses", result.below_minimum_at, result.minimum_bytes),
        )
        if at is not None and threshold is not None
    ]
    return "\n".join(lines) or t.text("forecast.no_failing_window")


def _to_free(result: VolumeForecast, t: Catalog) -> str:
    if result.bytes_to_free is None:
        return t.text("table.none")
    if result.bytes_to_free == 0:
        return t.text("forecast.nothing_to_free")
    return t.size(result.bytes_to_free, round_up=True)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowOut(_Frozen):
    """The free space expected at one backup window, with its band."""

    at: datetime
    free_bytes: int
    low_bytes: int
    high_bytes: int
    status: Status


class TrendOut(_Frozen):
    """The free space's line; a negative rate means it falls."""

    free_bytes_per_day: int
    low_bytes_per_day: int
    high_bytes_per_day: int
    free_bytes_now: int
    since: datetime
    points: int
    quality: float
    scatter_bytes: int


class VolumeOut(_Frozen):
    """One volume's forecast."""

    volume: str
    state: ForecastState
    status: Status
    capacity_bytes: int | None
    free_bytes: int | None
    observed_at: datetime | None
    minimum_bytes: int | None
    recommended_bytes: int | None
    points: int
    trend: TrendOut | None
    step_at: datetime | None
    first_failing: WindowOut | None
    first_critical: WindowOut | None
    first_at_risk: WindowOut | None
    below_recommended_at: datetime | None
    below_minimum_at: datetime | None
    bytes_to_free: int | None
    windows: list[WindowOut]


class ForecastOut(_Frozen):
    """What `backupcheck forecast --format json` prints."""

    schema_: Literal[1] = Field(default=FORECAST_SCHEMA_VERSION, alias="schema")
    now: datetime
    horizon_end: datetime
    timezone: str
    windows: list[datetime]
    volumes: list[VolumeOut]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_json(self) -> str:
        """The document, with `schema` as its first key."""
        return self.model_dump_json(by_alias=True, indent=2)


def forecast_json(
    results: Results, now: datetime, until: datetime, zone: tzinfo, windows: Sequence[datetime]
) -> str:
    """The JSON document, times in the zone asked for."""

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(zone) if at is not None else None

    def window(w: WindowForecast | None) -> WindowOut | None:
        if w is None:
            return None
        return WindowOut(
            at=w.at.astimezone(zone),
            free_bytes=w.free_bytes,
            low_bytes=w.low_bytes,
            high_bytes=w.high_bytes,
            status=w.status,
        )

    volumes = [
        VolumeOut(
            volume=name,
            state=r.state,
            status=volume_status(r, bool(windows)),
            capacity_bytes=r.capacity_bytes,
            free_bytes=r.free_bytes,
            observed_at=local(r.observed_at),
            minimum_bytes=r.minimum_bytes,
            recommended_bytes=r.recommended_bytes,
            points=r.points,
            trend=_trend_out(r.trend, zone),
            step_at=local(r.step_at),
            first_failing=window(r.first_failing),
            first_critical=window(r.first_critical),
            first_at_risk=window(r.first_at_risk),
            below_recommended_at=local(r.below_recommended_at),
            below_minimum_at=local(r.below_minimum_at),
            bytes_to_free=r.bytes_to_free,
            windows=[w for w in map(window, r.windows) if w is not None],
        )
        for name, r in results
    ]
    document = ForecastOut(
        now=now.astimezone(zone),
        horizon_end=until.astimezone(zone),
        timezone=zone_name(zone, now),
        windows=[w.astimezone(zone) for w in windows if now < w <= until],
        volumes=volumes,
    )
    return inert_json(document.to_json())


def _trend_out(trend: Trend | None, zone: tzinfo) -> TrendOut | None:
    if trend is None:
        return None
    return TrendOut(
        free_bytes_per_day=round(trend.free_bytes_per_day),
        low_bytes_per_day=round(trend.low_bytes_per_day),
        high_bytes_per_day=round(trend.high_bytes_per_day),
        free_bytes_now=round(trend.free_bytes_now),
        since=trend.since.astimezone(zone),
        points=trend.points,
        quality=math.floor(trend.quality * 1000) / 1000,
        scatter_bytes=round(trend.scatter_bytes),
    )
