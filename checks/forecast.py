"""Free space ahead: a volume's history in, its trend and the first backup window that will lack
the space a shadow copy needs out. Pure: no I/O, no clock (`now` is an argument).

The forecaster follows the space a volume *uses* (capacity − free), so that a volume extended or
shrunk keeps its trend, and forecasts free space against the latest capacity. The trend is a
Theil–Sen line over the recent history (checks.trend). A confirmed level shift (a big clean-up
or copy) restarts it: once the latest segment has enough history of its own it alone sets the
slope; until then the slope comes from pairs within each segment, and the level from the latest
one, so a clean-up moves the line without tilting it.

It says so rather than guess: too few points, or too short a span, is NOT_ENOUGH_HISTORY; a
slope whose sign its own confidence interval cannot establish (Fit.quality below the policy's)
is POOR_FIT whenever that doubt could decide a window, that is when the interval's pessimistic
edge would fall below a threshold within the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from statistics import NormalDist

from checks.report import Status, worst
from checks.rules import minimum_free_bytes, recommended_free_bytes
from checks.trend import Point, level_shifts, split, theil_sen, thin
from checks.units import MB

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Observation:
    """One reading of a volume: when, its size and its free space, in bytes."""

    at: datetime
    capacity_bytes: int
    free_bytes: int


@dataclass(frozen=True)
class Policy:
    """How much history the forecaster wants, and how sure it must be."""

    lookback: timedelta = timedelta(days=14)
    min_points: int = 8
    min_span: timedelta = timedelta(days=2)
    confidence: float = 0.90  # of the slope's interval and the band
    min_quality: float = 0.5  # Fit.quality: the slope's sign is established
    step_sigmas: float = 4.0
    step_floor_bytes: int = 128 * MB
    step_confirm: int = 2  # points after a jump that must stay at the new level
    max_points: int = 240  # thinned beyond this: pairwise slopes cost n²


class ForecastState(StrEnum):
    """Whether a forecast was made, and if not, why."""

    FORECAST = "forecast"
    NOT_ENOUGH_HISTORY = "not_enough_history"
    POOR_FIT = "poor_fit"


@dataclass(frozen=True)
class Trend:
    """The free space's line: its change per day (negative: it falls), with its interval."""

    free_bytes_per_day: float
    low_bytes_per_day: float
    high_bytes_per_day: float
    free_bytes_now: float  # where the line is at `now`
    since: datetime  # the first observation the line rests on
    points: int
    quality: float
    scatter_bytes: float  # robust standard deviation of the observations around the line


@dataclass(frozen=True)
class WindowForecast:
    """The free space expected at one backup window, its band, and what the rules say then."""

    at: datetime
    free_bytes: int
    low_bytes: int
    high_bytes: int
    status: Status


@dataclass(frozen=True)
class VolumeForecast:
    """One volume's forecast; without a trend (state not FORECAST) only the facts seen."""

    state: ForecastState
    capacity_bytes: int | None
    free_bytes: int | None  # as last observed
    observed_at: datetime | None
    minimum_bytes: int | None
    recommended_bytes: int | None
    points: int  # observations within the lookback
    span: timedelta
    trend: Trend | None = None
    step_at: datetime | None = None  # the latest level shift the trend restarted at
    windows: tuple[WindowForecast, ...] = ()
    below_minimum_at: datetime | None = None  # within the horizon
    below_recommended_at: datetime | None = None
    bytes_to_free: int | None = None
    horizon_end: datetime | None = None
    status: Status = Status.UNKNOWN

    @property
    def first_failing(self) -> WindowForecast | None:
        """The first window below the recommendation or the minimum."""
        return next((w for w in self.windows if w.status is not Status.OK), None)

    @property
    def first_at_risk(self) -> WindowForecast | None:
        """The first window whose band reaches below the minimum: the backup may fail there
        (noise or a faster drain), even where the expected free space is still enough."""
        minimum = self.minimum_bytes or 0
        return next((w for w in self.windows if w.low_bytes < minimum), None)

    @property
    def horizon_status(self) -> Status:
        """What the line reaches within the horizon, whatever the windows: for callers that
        know no backup window, any moment may be one."""
        if self.state is not ForecastState.FORECAST:
            return Status.UNKNOWN
        if self.below_minimum_at is not None:
            return Status.CRITICAL
        return Status.WARNING if self.below_recommended_at is not None else Status.OK

    @property
    def first_critical(self) -> WindowForecast | None:
        """The first window below the minimum: the backup would fail there."""
        return next((w for w in self.windows if w.status is Status.CRITICAL), None)


def forecast_volume(
    history: Sequence[Observation],
    windows: Sequence[datetime],
    now: datetime,
    horizon: timedelta = timedelta(days=7),
    minimum_bytes: int | None = None,
    policy: Policy = Policy(),
) -> VolumeForecast:
    """Forecast one volume; `minimum_bytes` overrides rule 2's own minimum (a diff-area volume
    that hosts several volumes' shadow storage needs their sum: see `hosted_minimum`)."""
    recent = _recent(history, now, policy.lookback)
    if not recent:
        return VolumeForecast(
            ForecastState.NOT_ENOUGH_HISTORY, None, None, None, minimum_bytes, None, 0, DAY * 0
        )
    latest = recent[-1]
    capacity = latest.capacity_bytes
    minimum = minimum_bytes if minimum_bytes is not None else minimum_free_bytes(capacity)
    recommended = recommended_free_bytes(capacity)
    seen = VolumeForecast(
        ForecastState.NOT_ENOUGH_HISTORY,
        capacity,
        latest.free_bytes,
        latest.at,
        minimum,
        recommended,
        len(recent),
        latest.at - recent[0].at,
    )
    used = thin(
        [(_days(o.at, now), o.capacity_bytes - o.free_bytes) for o in recent], policy.max_points
    )
    shifts = level_shifts(used, policy.step_sigmas, policy.step_floor_bytes, policy.step_confirm)
    segments = split(used, shifts)
    chosen = segments[-1:] if _enough(segments[-1:], policy) else segments
    fit = theil_sen(chosen, policy.confidence)
    if fit is None or not _enough(chosen, policy):
        return seen
    step_at = now + DAY * used[shifts[-1]][0] if shifts else None
    since = now + DAY * chosen[0][0][0]
    trend = Trend(
        -fit.slope,
        -fit.slope_high,
        -fit.slope_low,
        capacity - fit.level,
        since,
        fit.points,
        fit.quality,
        fit.scatter,
    )
    end = now + horizon
    z = NormalDist().inv_cdf(0.5 + policy.confidence / 2)

    def free(at: datetime, slope: float, margin: float = 0.0) -> float:
        return capacity - (fit.level + slope * _days(at, now)) + margin

    # The doubt about the slope decides nothing when even its pessimistic edge stays clear.
    warn_at = max(minimum, recommended or 0)
    pessimistic = min(free(now, 0.0), free(end, fit.slope_high)) - z * fit.scatter
    if fit.quality < policy.min_quality and pessimistic < warn_at:
        return replace(seen, state=ForecastState.POOR_FIT, trend=trend, step_at=step_at)
    ahead = sorted({w for w in windows if now < w <= end})
    forecasts = tuple(
        _window(
            w,
            free(w, fit.slope),
            free(w, fit.slope_high, -z * fit.scatter),
            free(w, fit.slope_low, z * fit.scatter),
            capacity,
            minimum,
            recommended,
        )
        for w in ahead
    )
    lowest = min(free(now, fit.slope), free(end, fit.slope))
    return replace(
        seen,
        state=ForecastState.FORECAST,
        trend=trend,
        step_at=step_at,
        windows=forecasts,
        below_minimum_at=_crossing(trend, minimum, now, end),
        below_recommended_at=_crossing(trend, recommended, now, end),
        bytes_to_free=max(0, math.ceil(minimum - lowest)),
        horizon_end=end,
        status=worst([w.status for w in forecasts]),
    )


def hosted_minimum(guest_capacities: Sequence[int]) -> int:
    """Rule 2 for a diff-area volume: the sum of each hosted volume's own minimum."""
    return sum(minimum_free_bytes(capacity) for capacity in guest_capacities)


def daily_windows(
    times: Sequence[time], zone: tzinfo, after: datetime, until: datetime
) -> list[datetime]:
    """Each day's backup times in `zone` that fall in (after, until], soonest first.

    A local time that a DST change skips or repeats maps to one instant (fold=0), as the
    scheduler maps configured backup_times (checks.windows.configured_window)."""
    first = after.astimezone(zone).date() - DAY
    days = (until - after) // DAY + 3
    found = {
        datetime.combine(first + DAY * n, at, tzinfo=zone) for n in range(days) for at in times
    }
    return sorted(w for w in found if after < w <= until)


def _recent(
    history: Sequence[Observation], now: datetime, lookback: timedelta
) -> list[Observation]:
    """The observations within the lookback up to now, oldest first; the last of equal times."""
    by_time = {o.at: o for o in history if now - lookback <= o.at <= now}
    return [by_time[at] for at in sorted(by_time)]


def _days(at: datetime, now: datetime) -> float:
    return (at - now) / DAY


def _enough(segments: Sequence[Sequence[Point]], policy: Policy) -> bool:
    """Enough points over a long enough span, counting segments that can form a pair."""
    usable = [s for s in segments if len(s) >= 2]
    points = sum(len(s) for s in usable)
    span = sum(s[-1][0] - s[0][0] for s in usable)
    return points >= policy.min_points and span >= policy.min_span / DAY


def _window(
    at: datetime,
    free: float,
    low: float,
    high: float,
    capacity: int,
    minimum: int,
    recommended: int | None,
) -> WindowForecast:
    def clip(value: float) -> int:
        return min(capacity, max(0, math.floor(value)))

    if free < minimum:
        status = Status.CRITICAL
    elif recommended is not None and free < recommended:
        status = Status.WARNING
    else:
        status = Status.OK
    return WindowForecast(at, clip(free), clip(low), clip(high), status)


def _crossing(trend: Trend, threshold: int | None, now: datetime, end: datetime) -> datetime | None:
    """When the line falls below the threshold, if it does by the horizon's end."""
    if threshold is None:
        return None
    if trend.free_bytes_now < threshold:
        return now
    if trend.free_bytes_per_day >= 0:
        return None
    days = (trend.free_bytes_now - threshold) / -trend.free_bytes_per_day
    return now + DAY * days if days <= (end - now) / DAY else None
