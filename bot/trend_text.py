"""A volume's stored trend as people read it in a table or a Slack message. Pure."""

from __future__ import annotations

from datetime import tzinfo

from checks.i18n import Catalog
from checks.report import VolumeReport
from checks.units import MB

# Under 1 MB a day: nothing a day's backup notices, so the trend reads as steady.
STEADY_PER_DAY = 1 * MB


def per_day(rate: float, t: Catalog) -> str:
    """A change of free space per day: "falls 410 MB/day", "rises …" or "steady"."""
    if abs(rate) < STEADY_PER_DAY:
        return t.text("forecast.flat")
    key = "forecast.falling" if rate < 0 else "forecast.rising"
    return t.text(key, size=t.size(round(abs(rate))))


def trend_text(volume: VolumeReport, t: Catalog, zone: tzinfo | None = None) -> str | None:
    """The volume's trend and, when the line crosses one within the horizon, the first threshold
    it falls below and when; None without a trend."""
    trend = volume.trend
    if trend is None:
        return None
    parts = [per_day(trend.free_bytes_per_day, t)]
    crossings = (
        (trend.below_minimum_at, volume.required_free_bytes),
        (trend.below_recommended_at, volume.recommended_free_bytes),
    )
    for at, size in crossings:
        if at is not None and size is not None:
            when = t.datetime(at, zone)
            parts.append(t.text("forecast.crosses", when=when, size=t.size(size)))
            break
    return t.text("list_separator").join(parts)
