"""A text sparkline of free space: one character per day, for terminals and chat. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from checks.forecast import Observation

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a day without readings


def daily_lows(
    observations: Sequence[Observation], now: datetime, zone: tzinfo, days: int = 30
) -> list[int | None]:
    """Each of the last `days` days' lowest free space (the server's calendar days, the last one
    today), oldest first; None for a day without readings."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    lows: dict[int, int] = {}
    for o in observations:
        offset = (o.at.astimezone(zone).date() - first).days
        if 0 <= offset < days and o.at <= now:
            lows[offset] = min(lows.get(offset, o.free_bytes), o.free_bytes)
    return [lows.get(n) for n in range(days)]


def sparkline(values: Sequence[int | None]) -> str:
    """One bar per value, scaled between the lowest and the highest; GAP for None."""
    present = [v for v in values if v is not None]
    if not present:
        return GAP * len(values)
    low, high = min(present), max(present)
    span = high - low
    top = len(BARS) - 1

    def bar(value: int) -> str:
        return BARS[round((value - low) / span * top)] if span else BARS[top // 2]

    return "".join(GAP if v is None else bar(v) for v in values)
