"""The forecaster with plain histories: trends, steps, windows, thresholds and its refusals."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.forecast import (
    ForecastState,
    Observation,
    daily_windows,
    forecast_volume,
    hosted_minimum,
)
from checks.report import Status
from checks.units import GB, MB

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # a Monday, 09:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")
# Every evening at 21:00 in Tokyo for the next week: Nov 30 12:00 UTC, then daily.
WINDOWS = [datetime(2026, 11, 30, 12, tzinfo=UTC) + timedelta(days=n) for n in range(7)]


def history(
    free: Callable[[float], float], days: float = 14, every_h: float = 6, capacity: int = 40 * GB
) -> list[Observation]:
    """Observations every `every_h` hours over the last `days`; free(day) with day <= 0."""
    count = int(days * 24 / every_h)
    return [
        Observation(NOW - timedelta(hours=every_h * k), capacity, round(free(-k * every_h / 24)))
        for k in range(count + 1)
    ]


def drain(start: float, per_day: float) -> Callable[[float], float]:
    """Free space that is `start` now and falls `per_day` bytes a day."""
    return lambda day: start - per_day * day


class TestTrend:
    def test_a_steady_drain_is_recovered_exactly(self) -> None:
        result = forecast_volume(history(drain(3 * GB, 400 * MB)), WINDOWS, NOW)
        assert result.state is ForecastState.FORECAST
        assert result.trend is not None
        assert result.trend.free_bytes_per_day == pytest.approx(-400 * MB)
        assert result.trend.free_bytes_now == pytest.approx(3 * GB)
        assert result.trend.points == 57
        assert result.trend.since == NOW - timedelta(days=14)

    def test_a_noisy_drain_is_unbiased_and_its_90_percent_interval_holds_it_as_often(
        self,
    ) -> None:
        errors, held = [], 0
        for seed in range(100):
            rng = random.Random(seed)  # noqa: S311 - reproducible noise
            noisy = history(lambda d: 3 * GB - 400 * MB * d + rng.gauss(0, 100 * MB))  # noqa: B023
            trend = forecast_volume(noisy, WINDOWS, NOW).trend
            assert trend is not None
            errors.append(trend.free_bytes_per_day + 400 * MB)
            held += trend.low_bytes_per_day < -400 * MB < trend.high_bytes_per_day
        assert abs(statistics.mean(errors)) < 1 * MB
        assert 80 <= held <= 97

    def test_one_outlier_does_not_swing_the_trend(self) -> None:
        observations = history(drain(3 * GB, 400 * MB))
        observations[10] = Observation(observations[10].at, 40 * GB, 39 * GB)
        trend = forecast_volume(observations, WINDOWS, NOW).trend
        assert trend is not None
        assert trend.free_bytes_per_day == pytest.approx(-400 * MB)
        assert trend.free_bytes_now == pytest.approx(3 * GB)

    @pytest.mark.parametrize("change", [10 * GB, -10 * GB], ids=["clean-up", "copy"])
    def test_a_step_restarts_the_trend_at_its_new_level(self, change: int) -> None:
        base = 15 * GB
        # Five days ago someone freed (or filled) 10 GB; the drain went on at 300 MB a day.
        steps = history(lambda d: base - 300 * MB * d + (change if d > -5 else 0))
        result = forecast_volume(steps, WINDOWS, NOW)
        assert result.trend is not None
        assert result.step_at == NOW - timedelta(days=4, hours=18)
        assert result.trend.since == result.step_at
        assert result.trend.free_bytes_per_day == pytest.approx(-300 * MB)
        assert result.trend.free_bytes_now == pytest.approx(base + change)

    def test_a_step_too_recent_to_stand_alone_keeps_the_slope_and_moves_the_level(self) -> None:
        # A copy of 20 GB one day ago: one day after it is too little history on its own.
        copied = history(lambda d: 23 * GB - 400 * MB * d - (20 * GB if d > -1 else 0))
        result = forecast_volume(copied, WINDOWS, NOW)
        assert result.trend is not None
        assert result.step_at == NOW - timedelta(hours=18)
        assert result.trend.since == NOW - timedelta(days=14)
        assert result.trend.free_bytes_per_day == pytest.approx(-400 * MB)
        assert result.trend.free_bytes_now == pytest.approx(3 * GB)
        assert result.first_failing is not None

    def test_a_flat_volume_never_fails(self) -> None:
        result = forecast_volume(history(lambda d: 5 * GB), WINDOWS, NOW)
        assert result.trend is not None
        assert result.trend.free_bytes_per_day == 0
        assert result.status is Status.OK
        assert result.first_failing is None
        assert result.bytes_to_free == 0

    def test_a_growing_volume_has_a_positive_trend_and_never_fails(self) -> None:
        result = forecast_volume(history(drain(2 * GB, -200 * MB)), WINDOWS, NOW)
        assert result.trend is not None
        assert result.trend.free_bytes_per_day == pytest.approx(200 * MB)
        assert result.first_failing is None
        assert result.below_minimum_at is None

    def test_a_three_day_gap_changes_nothing_on_a_line(self) -> None:
        gap = [
            o
            for o in history(drain(3 * GB, 400 * MB))
            if not NOW - timedelta(days=9) < o.at < NOW - timedelta(days=6)
        ]
        result = forecast_volume(gap, WINDOWS, NOW)
        assert result.trend is not None
        assert result.trend.free_bytes_per_day == pytest.approx(-400 * MB)
        assert result.step_at is None

    def test_an_extended_volume_keeps_its_trend_against_the_new_size(self) -> None:
        # D: grew from 40 GB to 60 GB four days ago; the data kept growing 400 MB a day.
        grown = [
            Observation(o.at, 60 * GB, o.free_bytes + 20 * GB)
            if o.at > NOW - timedelta(days=4)
            else o
            for o in history(drain(3 * GB, 400 * MB))
        ]
        result = forecast_volume(grown, WINDOWS, NOW)
        assert result.trend is not None
        assert result.step_at is None
        assert result.capacity_bytes == 60 * GB
        assert result.trend.free_bytes_per_day == pytest.approx(-400 * MB)
        assert result.trend.free_bytes_now == pytest.approx(23 * GB)


class TestWindows:
    def test_the_first_window_below_the_recommendation_warns_and_below_the_minimum_fails(
        self,
    ) -> None:
        # 2.5 GB free now, 400 MB a day: below 1 GB on day 3.84, below 320 MB on day 5.6.
        result = forecast_volume(history(drain(2.5 * GB, 400 * MB)), WINDOWS, NOW)
        statuses = [w.status for w in result.windows]
        assert statuses == [Status.OK] * 4 + [Status.WARNING] * 2 + [Status.CRITICAL]
        assert result.first_failing == result.windows[4]
        assert result.first_failing.free_bytes == 2.5 * GB - 4.5 * 400 * MB
        assert result.first_critical == result.windows[6]
        assert result.first_critical.at == datetime(2026, 12, 6, 12, tzinfo=UTC)
        assert result.first_critical.free_bytes == 0  # the line is below zero: clipped
        assert result.status is Status.CRITICAL
        assert result.below_recommended_at == NOW + timedelta(days=3.84)
        assert result.below_minimum_at == NOW + timedelta(days=5.6)

    def test_bytes_to_free_keep_the_minimum_through_the_horizon(self) -> None:
        result = forecast_volume(history(drain(2.5 * GB, 400 * MB)), WINDOWS, NOW)
        # At the horizon's end (7 days): 2.5 GB − 2,800 MB = -240 MB; 320 MB needed.
        assert result.bytes_to_free == 320 * MB - (2.5 * GB - 7 * 400 * MB)
        assert result.horizon_end == NOW + timedelta(days=7)

    def test_a_small_volume_needs_50_mb_and_has_no_recommendation(self) -> None:
        small = history(lambda d: 200 * MB - 30 * MB * d, capacity=500 * MB)
        result = forecast_volume(small, WINDOWS, NOW)
        assert (result.minimum_bytes, result.recommended_bytes) == (50 * MB, None)
        assert result.first_failing == result.first_critical
        assert result.first_critical is not None
        assert result.first_critical.at == datetime(2026, 12, 5, 12, tzinfo=UTC)

    def test_a_diff_area_host_is_forecast_against_the_summed_minimum(self) -> None:
        need = hosted_minimum([40 * GB, 100 * GB, 500 * MB])
        assert need == 320 * MB + 320 * MB + 50 * MB
        result = forecast_volume(history(drain(2 * GB, 250 * MB)), WINDOWS, NOW, minimum_bytes=need)
        assert result.minimum_bytes == need
        assert result.first_critical is not None
        assert result.first_critical.at == datetime(2026, 12, 5, 12, tzinfo=UTC)
        alone = forecast_volume(history(drain(2 * GB, 250 * MB)), WINDOWS, NOW)
        assert alone.first_critical is None

    def test_a_noisy_volume_is_at_risk_before_its_expected_free_space_runs_out(self) -> None:
        rng = random.Random(5)  # noqa: S311 - reproducible noise
        noisy = history(lambda d: 2 * GB - 300 * MB * d + rng.gauss(0, 150 * MB))
        result = forecast_volume(noisy, WINDOWS, NOW)
        assert result.first_critical is not None
        assert result.first_at_risk is not None
        assert result.first_at_risk.at < result.first_critical.at
        assert result.first_at_risk.low_bytes < 320 * MB <= result.first_at_risk.free_bytes

    def test_an_exact_line_is_at_risk_where_it_fails(self) -> None:
        result = forecast_volume(history(drain(2.5 * GB, 400 * MB)), WINDOWS, NOW)
        assert result.first_at_risk == result.first_critical

    def test_windows_outside_the_horizon_or_past_are_left_out(self) -> None:
        windows = [NOW - timedelta(hours=1), NOW + timedelta(days=3), NOW + timedelta(days=9)]
        result = forecast_volume(history(drain(5 * GB, 0)), windows, NOW)
        assert [w.at for w in result.windows] == [NOW + timedelta(days=3)]

    def test_the_band_holds_the_central_forecast(self) -> None:
        rng = random.Random(5)  # noqa: S311 - reproducible noise
        noisy = history(lambda d: 4 * GB - 300 * MB * d + rng.gauss(0, 150 * MB))
        result = forecast_volume(noisy, WINDOWS, NOW)
        widths = [w.high_bytes - w.low_bytes for w in result.windows]
        assert all(w.low_bytes <= w.free_bytes <= w.high_bytes for w in result.windows)
        assert widths == sorted(widths)  # wider the further ahead


class TestRefusals:
    def test_too_few_points_is_not_enough_history(self) -> None:
        result = forecast_volume(history(drain(3 * GB, 400 * MB), days=1), WINDOWS, NOW)
        assert result.state is ForecastState.NOT_ENOUGH_HISTORY
        assert result.trend is None
        assert result.windows == ()
        assert result.status is Status.UNKNOWN
        assert (result.points, result.free_bytes) == (5, 3 * GB)

    def test_many_points_over_too_short_a_span_is_not_enough_history(self) -> None:
        dense = history(drain(3 * GB, 400 * MB), days=1.5, every_h=0.25)
        result = forecast_volume(dense, WINDOWS, NOW)
        assert result.points == 145
        assert result.state is ForecastState.NOT_ENOUGH_HISTORY

    def test_no_observation_at_all(self) -> None:
        result = forecast_volume([], WINDOWS, NOW)
        assert result.state is ForecastState.NOT_ENOUGH_HISTORY
        assert result.capacity_bytes is None

    def test_observations_after_now_or_before_the_lookback_are_ignored(self) -> None:
        observations = history(drain(3 * GB, 400 * MB), days=30)
        observations.append(Observation(NOW + timedelta(hours=1), 40 * GB, 39 * GB))
        result = forecast_volume(observations, WINDOWS, NOW)
        assert result.points == 57
        assert result.free_bytes == 3 * GB

    def test_an_erratic_volume_near_its_threshold_is_not_forecast(self) -> None:
        rng = random.Random(11)  # noqa: S311 - reproducible noise
        erratic = history(lambda d: 2 * GB + rng.uniform(-800, 800) * MB)
        result = forecast_volume(erratic, WINDOWS, NOW)
        assert result.state is ForecastState.POOR_FIT
        assert result.trend is not None
        assert result.trend.quality < 0.5
        assert result.windows == ()
        assert result.bytes_to_free is None

    def test_the_same_scatter_far_from_any_threshold_is_forecast(self) -> None:
        rng = random.Random(11)  # noqa: S311 - reproducible noise
        erratic = history(lambda d: 200 * GB + rng.uniform(-800, 800) * MB, capacity=400 * GB)
        result = forecast_volume(erratic, WINDOWS, NOW)
        assert result.state is ForecastState.FORECAST
        assert result.status is Status.OK


def test_daily_windows_in_a_zone_cover_the_horizon() -> None:
    found = daily_windows([time(21)], TOKYO, NOW, NOW + timedelta(days=7))
    assert [w.astimezone(UTC) for w in found] == WINDOWS


def test_daily_windows_across_a_dst_change_keep_the_local_time() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 10, 31, 12, tzinfo=UTC)
    found = daily_windows([time(1, 30)], new_york, start, start + timedelta(days=3))
    assert [w.astimezone(new_york).hour for w in found] == [1, 1, 1]
    assert [w.utcoffset() for w in found] == [
        timedelta(hours=-4),
        timedelta(hours=-5),
        timedelta(hours=-5),
    ]


rates = st.integers(1, 2000).map(lambda n: n * MB)


@given(first=rates, second=rates, start=st.integers(1, 100).map(lambda n: n * 256 * MB))
def test_a_faster_drain_fails_no_later_and_needs_no_less_freed(
    first: int, second: int, start: int
) -> None:
    slow, fast = sorted((first, second))
    slow_result = forecast_volume(history(drain(start, slow)), WINDOWS, NOW)
    fast_result = forecast_volume(history(drain(start, fast)), WINDOWS, NOW)
    assert slow_result.bytes_to_free is not None
    assert fast_result.bytes_to_free is not None
    assert fast_result.bytes_to_free >= slow_result.bytes_to_free
    for kind in ("first_failing", "first_critical"):
        slow_window, fast_window = getattr(slow_result, kind), getattr(fast_result, kind)
        if slow_window is not None:
            assert fast_window is not None
            assert fast_window.at <= slow_window.at


@given(
    rate=st.integers(0, 5000).map(lambda n: n * MB),
    start=st.integers(4, 1000).map(lambda n: n * 256 * MB),
    outlier=st.integers(0, 56),
)
def test_a_rising_volume_above_its_thresholds_never_fails(
    rate: int, start: int, outlier: int
) -> None:
    observations = history(drain(start, -rate), capacity=2000 * GB)
    observations[outlier] = Observation(observations[outlier].at, 2000 * GB, 0)
    result = forecast_volume(observations, WINDOWS, NOW)
    assert result.state is ForecastState.FORECAST
    assert result.first_failing is None
    assert result.bytes_to_free == 0


@given(
    rate=st.integers(1, 3000).map(lambda n: n * MB),
    start=st.integers(2, 400).map(lambda n: n * 128 * MB),
)
def test_a_linear_decline_is_recovered_exactly_and_fails_where_the_line_says(
    rate: int, start: int
) -> None:
    result = forecast_volume(history(drain(start, rate)), WINDOWS, NOW)
    assert result.trend is not None
    assert result.trend.free_bytes_per_day == pytest.approx(-rate)
    expected = [w for w in WINDOWS if start - rate * ((w - NOW) / timedelta(days=1)) < 320 * MB]
    critical = result.first_critical
    assert (critical.at if critical else None) == (expected[0] if expected else None)
