"""Robust straight lines through noisy series: Theil–Sen slopes with their confidence interval,
and the level shifts that split a series into segments. Pure: numbers in, numbers out.

Times are days (floats), values are bytes. The estimators are the ones hydrology uses for
trends in noisy, gappy records: Sen's slope, the median of all pairwise slopes, and its
distribution-free confidence interval from Kendall's S (Sen 1968, "Estimates of the regression
coefficient based on Kendall's tau", JASA 63:1379; Gilbert 1987, "Statistical Methods for
Environmental Pollution Monitoring", ch. 16). Pairs are formed within segments only, as the
seasonal Kendall estimator forms them within seasons (Hirsch, Slack and Smith 1982; one slope
and interval across all seasons, as in R's EnvStats::kendallSeasonalTrendTest,
https://search.r-project.org/CRAN/refmans/EnvStats/html/kendallSeasonalTrendTest.html), so that
a step between segments moves their levels without tilting the slope.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, median

# Makes the median absolute deviation an estimate of the standard deviation for normal noise.
MAD_TO_SIGMA = 1.4826

Point = tuple[float, float]  # (day, value)


@dataclass(frozen=True)
class Fit:
    """A line through one or more segments: a common slope, the last segment's level."""

    slope: float  # value per day
    slope_low: float  # the slope's confidence interval
    slope_high: float
    level: float  # the line's value at day 0, from the last segment
    scatter: float  # robust standard deviation of the points around their segment's line
    points: int
    pairs: int

    @property
    def quality(self) -> float:
        """How well the slope is pinned down: |slope| / (|slope| + CI half-width), in [0, 1].

        1 is an exact line; 0.5 means the interval is as wide as the slope, so that its sign is
        only just established; near 0 nothing distinguishes the slope from none at all."""
        half = (self.slope_high - self.slope_low) / 2
        if half <= 0:
            return 1.0
        return abs(self.slope) / (abs(self.slope) + half)

    def at(self, day: float) -> float:
        """The line's value at this day."""
        return self.level + self.slope * day


def robust_sigma(values: Sequence[float]) -> float:
    """MAD × 1.4826: the standard deviation of normal noise, unmoved by a few wild values."""
    if not values:
        return 0.0
    centre = median(values)
    return MAD_TO_SIGMA * median(abs(v - centre) for v in values)


def theil_sen(segments: Sequence[Sequence[Point]], confidence: float = 0.90) -> Fit | None:
    """Sen's slope over the pairs within each segment, the level of the last segment, and the
    slope's two-sided confidence interval; None without a single pair of distinct times."""
    slopes = sorted(
        (b[1] - a[1]) / (b[0] - a[0])
        for segment in segments
        for i, a in enumerate(segment)
        for b in segment[i + 1 :]
        if b[0] > a[0]
    )
    if not slopes:
        return None
    slope = median(slopes)
    low, high = _interval(slopes, segments, confidence)
    residuals = [
        value - slope * day - median(v - slope * d for d, v in segment)
        for segment in segments
        if segment
        for day, value in segment
    ]
    level = median(v - slope * d for d, v in segments[-1])
    points = sum(len(s) for s in segments)
    return Fit(slope, low, high, level, robust_sigma(residuals), points, len(slopes))


def _interval(
    slopes: Sequence[float], segments: Sequence[Sequence[Point]], confidence: float
) -> tuple[float, float]:
    """Gilbert (1987) eq. 16.7-16.8: C = z·sqrt(Var S), the slopes ranked (N − C)/2 and
    (N + C)/2 + 1; Var S summed over segments as the seasonal Kendall test sums it (no ties)."""
    n_pairs = len(slopes)
    var_s = sum(len(s) * (len(s) - 1) * (2 * len(s) + 5) / 18 for s in segments)
    c = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(var_s)
    lower_rank = math.floor((n_pairs - c) / 2)  # 1-based ranks, rounded outwards
    upper_rank = math.ceil((n_pairs + c) / 2) + 1
    return slopes[max(lower_rank, 1) - 1], slopes[min(upper_rank, n_pairs) - 1]


def level_shifts(points: Sequence[Point], sigmas: float, floor: float, confirm: int) -> list[int]:
    """The indexes i at which a level shift starts (between points i−1 and i), in order.

    A candidate is a jump between neighbours that stands `sigmas` robust standard deviations
    (and at least `floor`) out of the jumps the series' own drift explains. It counts only when
    it persists: the median of the point and the `confirm` points after it, drift removed, sits
    beyond the jump's threshold from the median of the points before it, and every one of them
    is past the halfway mark. A lone outlier fails that (it comes back), and so does the point
    after it; a jump in the last `confirm` points is not yet known to be a shift.
    """
    n = len(points)
    if n < confirm + 2:
        return []
    steps = [
        (points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]) for i in range(1, n)
    ]
    rates = [dv / dt for dt, dv in steps if dt > 0]
    if not rates:
        return []
    rate = median(rates)
    innovations = [dv - rate * dt for dt, dv in steps]
    threshold = max(sigmas * robust_sigma(innovations), floor)
    flat = [v - rate * d for d, v in points]  # the drift taken out
    window = confirm + 1
    shifts = []
    for i in range(1, n - confirm):
        jump = innovations[i - 1]
        if abs(jump) <= threshold:
            continue
        direction = 1.0 if jump > 0 else -1.0
        before = median(flat[max(0, i - window) : i])
        after = flat[i : i + window]
        moved = direction * (median(after) - before)
        halfway = before + direction * moved / 2
        if moved > threshold and all(direction * (v - halfway) > 0 for v in after):
            shifts.append(i)
    return shifts


def split(points: Sequence[Point], shifts: Sequence[int]) -> list[list[Point]]:
    """The points cut into segments at the given shift indexes."""
    bounds = [0, *shifts, len(points)]
    return [list(points[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def thin(points: Sequence[Point], most: int) -> list[Point]:
    """At most `most` points: the median day and value of each of `most` equal stretches of time
    (pairwise slopes cost n²), or the points themselves when there are few enough."""
    if len(points) <= most:
        return list(points)
    first, last = points[0][0], points[-1][0]
    width = (last - first) / most or 1.0
    bins: dict[int, list[Point]] = {}
    for point in points:
        bins.setdefault(min(int((point[0] - first) / width), most - 1), []).append(point)
    return [
        (median(d for d, _ in group), median(v for _, v in group))
        for _, group in sorted(bins.items())
    ]
