"""Robust lines: Sen's slope and its interval, level shifts, thinning; plain numbers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.trend import level_shifts, robust_sigma, split, theil_sen, thin


def _line(
    slope: float, level: float, days: int = 14, per_day: int = 4
) -> list[tuple[float, float]]:
    return [
        (d / per_day - days, level + slope * (d / per_day - days)) for d in range(days * per_day)
    ]


def test_an_exact_line_has_its_slope_level_and_a_closed_interval() -> None:
    fit = theil_sen([_line(-400.0, 1000.0)])
    assert fit is not None
    assert fit.slope == pytest.approx(-400.0)
    assert (fit.slope_low, fit.slope_high) == pytest.approx((-400.0, -400.0))
    assert fit.level == pytest.approx(1000.0)
    assert fit.scatter == pytest.approx(0.0, abs=1e-6)
    assert fit.quality == 1.0
    assert fit.points == 56
    assert fit.pairs == 56 * 55 // 2


def test_no_pair_of_distinct_times_gives_no_fit() -> None:
    assert theil_sen([[(0.0, 1.0)]]) is None
    assert theil_sen([[(0.0, 1.0), (0.0, 2.0)]]) is None


def test_pairs_never_straddle_segments_so_a_step_moves_the_level_not_the_slope() -> None:
    points = _line(10.0, 0.0)
    before, after = points[:30], [(d, v + 5000.0) for d, v in points[30:]]
    pooled = theil_sen([before, after])
    straddled = theil_sen([before + after])
    assert pooled is not None
    assert straddled is not None
    assert pooled.slope == pytest.approx(10.0)
    assert pooled.level == pytest.approx(5000.0)
    assert straddled.slope > 50.0  # what averaging across the step would have said


def test_the_interval_widens_with_noise_and_quality_falls() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible noise
    noise = [rng.gauss(0.0, 300.0) for _ in range(56)]
    clean = _line(-100.0, 0.0)
    noisy = [(d, v + n) for (d, v), n in zip(clean, noise, strict=True)]
    fit = theil_sen([noisy])
    assert fit is not None
    assert fit.slope_low < -100.0 < fit.slope_high
    assert 0.0 < fit.quality < 1.0


def test_robust_sigma_ignores_one_wild_value() -> None:
    assert robust_sigma([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(1.4826)
    assert robust_sigma([1.0, 2.0, 3.0, 4.0, 5e12]) == pytest.approx(1.4826)
    assert robust_sigma([]) == 0.0


@pytest.mark.parametrize("jump", [5000.0, -5000.0])
def test_a_lasting_jump_is_a_shift_at_its_first_new_point(jump: float) -> None:
    points = [(d, v + (jump if i >= 40 else 0.0)) for i, (d, v) in enumerate(_line(3.0, 0.0))]
    assert level_shifts(points, sigmas=6.0, floor=100.0, confirm=2) == [40]
    assert [len(s) for s in split(points, [40])] == [40, 16]


def test_one_outlier_is_not_a_shift_nor_is_the_point_after_it() -> None:
    points = _line(3.0, 0.0)
    points[20] = (points[20][0], 1e6)
    assert level_shifts(points, sigmas=6.0, floor=100.0, confirm=2) == []


def test_a_jump_in_the_last_points_is_not_yet_a_shift() -> None:
    points = _line(3.0, 0.0)
    points[-2:] = [(d, v + 5000.0) for d, v in points[-2:]]
    assert level_shifts(points, sigmas=6.0, floor=100.0, confirm=2) == []


def test_jumps_below_the_floor_are_noise() -> None:
    points = [(d, v + (50.0 if i >= 30 else 0.0)) for i, (d, v) in enumerate(_line(0.0, 0.0))]
    assert level_shifts(points, sigmas=6.0, floor=100.0, confirm=2) == []


def test_thinning_keeps_few_points_as_they_are_and_bounds_many() -> None:
    few = _line(1.0, 0.0, days=2)
    assert thin(few, 240) == few
    many = _line(1.0, 0.0, days=14, per_day=96)
    thinned = thin(many, 100)
    assert len(thinned) <= 100
    fit = theil_sen([thinned])
    assert fit is not None
    assert fit.slope == pytest.approx(1.0)


@given(
    slope=st.floats(-1e10, 1e10, allow_nan=False),
    level=st.floats(0, 1e13, allow_nan=False),
    outlier=st.integers(0, 55),
    size=st.floats(-1e13, 1e13, allow_nan=False),
)
def test_one_outlier_anywhere_leaves_sens_slope_of_a_line(
    slope: float, level: float, outlier: int, size: float
) -> None:
    points = _line(slope, level)
    points[outlier] = (points[outlier][0], points[outlier][1] + size)
    fit = theil_sen([points])
    assert fit is not None
    assert fit.slope == pytest.approx(slope, rel=1e-6, abs=1e-3)
