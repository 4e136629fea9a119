"""What a trend chart shows, decided from plain data: the lines, the band, the windows and every
label, in the server's time zone. Pure; bot.charts.draw only draws what this returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import NormalDist

from bot.charts.series import LOOKBACK, VolumeTrend
from checks.forecast import ForecastState, Policy
from checks.i18n import Catalog, zone_label
from checks.units import GB, MB

BAND_STEPS = 48  # points along the forecast and its band: smooth enough for a week at 900 px


@dataclass(frozen=True)
class Labels:
    """Every text on the chart, from the message catalog."""

    title: str
    x_axis: str
    y_axis: str
    observed: str
    minimum: str
    recommended: str
    forecast: str
    band: str
    windows: str
    failing: str | None
    note: str | None  # why there is no forecast line

    def all(self) -> str:
        """Every label in one string: what a font must be able to draw."""
        parts = (self.title, self.x_axis, self.y_axis, self.observed, self.minimum)
        rest = (self.recommended, self.forecast, self.band, self.windows)
        return "".join((*parts, *rest, self.failing or "", self.note or ""))


@dataclass(frozen=True)
class Chart:
    """The chart's content; values in `unit` (GB or MB), times aware, in the server's zone."""

    labels: Labels
    unit: int
    start: datetime
    end: datetime
    observed: tuple[tuple[datetime, float], ...]
    minimum: float | None
    recommended: float | None
    forecast: tuple[tuple[datetime, float], ...]  # the expected line, from now on
    band: tuple[tuple[datetime, float, float], ...]  # (time, low, high)
    windows: tuple[datetime, ...]
    # The first window below the recommendation or the minimum (or the one an alert names).
    failing: datetime | None


def chart_plan(trend: VolumeTrend, t: Catalog, lookback: timedelta = LOOKBACK) -> Chart:
    """What to draw for one volume's trend."""
    zone, now, result = trend.zone, trend.now, trend.forecast
    seen = [o for o in trend.series.observations if now - lookback <= o.at <= now]
    capacity = result.capacity_bytes or (seen[-1].capacity_bytes if seen else 0)
    top = max([o.free_bytes for o in seen] + [result.recommended_bytes or 0, 0])
    unit = GB if top >= 2 * GB else MB

    def scaled(n_bytes: float) -> float:
        return n_bytes / unit

    def clipped(n_bytes: float) -> float:  # as the forecaster clips its windows' figures
        return scaled(min(capacity, max(0.0, n_bytes)))

    forecast: list[tuple[datetime, float]] = []
    band: list[tuple[datetime, float, float]] = []
    end = now
    line = result.trend
    if result.state is ForecastState.FORECAST and line and result.horizon_end:
        end = result.horizon_end
        margin = NormalDist().inv_cdf(0.5 + Policy().confidence / 2) * line.scatter_bytes
        for step in range(BAND_STEPS + 1):
            at = now + (end - now) * step / BAND_STEPS
            days = (at - now) / timedelta(days=1)
            expected = line.free_bytes_now + line.free_bytes_per_day * days
            low = line.free_bytes_now + line.low_bytes_per_day * days - margin
            high = line.free_bytes_now + line.high_bytes_per_day * days + margin
            forecast.append((at.astimezone(zone), clipped(expected)))
            band.append((at.astimezone(zone), clipped(low), clipped(high)))
    windows = tuple(w.astimezone(zone) for w in trend.windows if now < w <= end)
    first = result.first_failing
    failing = trend.highlight or (first.at if first else None)
    start = min([o.at for o in seen] + [now - lookback]).astimezone(zone)
    return Chart(
        labels=_labels(trend, t, unit, failing),
        unit=unit,
        start=max(start, (now - lookback).astimezone(zone)),
        end=max(end, now).astimezone(zone),
        observed=tuple((o.at.astimezone(zone), scaled(o.free_bytes)) for o in seen),
        minimum=scaled(result.minimum_bytes) if result.minimum_bytes is not None else None,
        recommended=scaled(result.recommended_bytes) if result.recommended_bytes else None,
        forecast=tuple(forecast),
        band=tuple(band),
        windows=windows,
        failing=failing.astimezone(zone) if failing else None,
    )


def _labels(trend: VolumeTrend, t: Catalog, unit: int, failing: datetime | None) -> Labels:
    result = trend.forecast
    zone_text = zone_label(trend.now.astimezone(trend.zone))
    note = None
    if result.state is ForecastState.NOT_ENOUGH_HISTORY:
        note = t.text("trend.chart_no_forecast_history")
    elif result.state is ForecastState.POOR_FIT:
        note = t.text("trend.chart_no_forecast_erratic")
    minimum = result.minimum_bytes
    return Labels(
        title=t.text("trend.chart_title", server=trend.server, volume=trend.series.label),
        x_axis=t.text("trend.chart_time", zone=zone_text),
        y_axis=t.text("trend.chart_free", unit="GB" if unit == GB else "MB"),
        observed=t.text("trend.chart_observed"),
        minimum=t.text("trend.chart_minimum", size=t.size(minimum or 0)),
        recommended=t.text("trend.chart_recommended"),
        forecast=t.text("trend.chart_forecast"),
        band=t.text("trend.chart_band"),
        windows=t.text("trend.chart_windows"),
        failing=t.text("trend.chart_failing", when=t.datetime(failing, trend.zone))
        if failing
        else None,
        note=note,
    )


def chart_filename(server: str, label: str, day: date) -> str:
    """fs01-D-2026-11-23.png: the server, the volume's letters and digits, and the day."""
    letters = "".join(c for c in label if c.isalnum())[:32] or "volume"
    return f"{server}-{letters}-{day.isoformat()}.png"
