"""What the chart shows, decided from plain data: 30 days seen, the thresholds, the forecast and
its band from now to the horizon, the windows and the first failing one, all in the server's
zone, with labels from the catalog."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.charts.plan import BAND_STEPS, chart_filename, chart_plan
from bot.charts.series import volume_trend, windows_ahead
from checks.forecast import ForecastState
from checks.i18n import Catalog
from checks.inventory import Server
from checks.units import GB, MB
from tests.bot.charts.conftest import NOW, TOKYO, Drain


def test_a_draining_volume_shows_the_last_30_days_and_a_week_of_forecast_in_the_servers_zone(
    server: Server, drain: Drain, en: Catalog
) -> None:
    series = drain(days=40)
    windows = windows_ahead(server, None, NOW, TOKYO)
    trend = volume_trend(server, series, windows, NOW, TOKYO)
    chart = chart_plan(trend, en)
    result = trend.forecast
    assert result.state is ForecastState.FORECAST
    assert chart.unit == GB
    shown = [o for o in series.observations if o.at >= NOW - timedelta(days=30)]
    assert [(at, v * GB) for at, v in chart.observed] == [(o.at, o.free_bytes) for o in shown]
    assert chart.start == NOW - timedelta(days=30)
    assert chart.end == NOW + timedelta(days=7)
    assert chart.minimum == result.minimum_bytes / GB
    assert chart.recommended == 1.0
    assert chart.windows == tuple(windows)
    assert result.first_failing is not None
    assert chart.failing == result.first_failing.at
    every_time = [chart.start, chart.end, *chart.windows, *(at for at, _ in chart.observed)]
    assert {at.tzinfo for at in every_time} == {TOKYO}
    assert len(chart.forecast) == len(chart.band) == BAND_STEPS + 1
    assert chart.forecast[0] == (NOW, result.trend.free_bytes_now / GB)  # type: ignore[union-attr]


def test_the_band_passes_through_the_forecasters_figures_at_each_window(
    server: Server, drain: Drain, en: Catalog
) -> None:
    series = drain()
    noise = random.Random(13)  # noqa: S311 - repeatable noise, not a secret
    noisy = tuple(
        type(o)(o.at, o.capacity_bytes, o.free_bytes + round(noise.gauss(0, 60 * MB)))
        for o in series.observations
    )
    windows = [NOW + timedelta(days=7) * step / BAND_STEPS for step in (12, 30)]
    trend = volume_trend(server, type(series)("v", "D:\\", True, None, noisy), windows, NOW, TOKYO)
    assert trend.forecast.state is ForecastState.FORECAST
    chart = chart_plan(trend, en)
    band = {at: (low, high) for at, low, high in chart.band}
    line = dict(chart.forecast)
    for window in trend.forecast.windows:
        low, high = band[window.at]
        assert low < line[window.at] < high
        assert low * GB == pytest.approx(window.low_bytes, abs=1)
        assert high * GB == pytest.approx(window.high_bytes, abs=1)
        assert line[window.at] * GB == pytest.approx(window.free_bytes, abs=1)


def test_labels_come_from_the_catalog_with_the_zone_and_the_failing_window(
    server: Server, drain: Drain, en: Catalog, ja: Catalog
) -> None:
    trend = volume_trend(server, drain(), windows_ahead(server, None, NOW, TOKYO), NOW, TOKYO)
    failing = trend.forecast.first_failing
    assert failing is not None
    labels = chart_plan(trend, en).labels
    assert labels.title == "Free space on fs01 D:"
    assert labels.x_axis == "Time (JST)"
    assert labels.y_axis == "Free space (GB)"
    assert labels.minimum == "Shadow-copy minimum (320 MB)"
    assert labels.failing == f"First failing backup: {en.datetime(failing.at, TOKYO)}"
    assert labels.note is None
    japanese = chart_plan(trend, ja).labels
    assert japanese.x_axis == "時刻 (JST)"
    assert japanese.failing == f"最初に失敗するバックアップ: {ja.datetime(failing.at, TOKYO)}"


def test_without_enough_history_only_what_was_seen_is_drawn_with_a_note(
    server: Server, drain: Drain, en: Catalog
) -> None:
    trend = volume_trend(server, drain(days=1, free_now=600 * MB, capacity=GB), [], NOW, TOKYO)
    chart = chart_plan(trend, en)
    assert trend.forecast.state is ForecastState.NOT_ENOUGH_HISTORY
    assert (chart.forecast, chart.band, chart.failing) == ((), (), None)
    assert chart.end == NOW
    assert chart.unit == MB  # a small volume reads better in MB
    assert chart.labels.y_axis == "Free space (MB)"
    assert chart.labels.note == "Not enough history to forecast yet."
    assert len(chart.observed) == 5


def test_a_window_an_alert_names_is_marked_instead_of_the_first_failing_one(
    server: Server, drain: Drain, en: Catalog
) -> None:
    windows = windows_ahead(server, None, NOW, TOKYO)
    trend = volume_trend(server, drain(), windows, NOW, TOKYO)
    failing = trend.forecast.first_failing
    assert failing is not None
    named = next(w for w in windows if w != failing.at)
    chart = chart_plan(replace(trend, highlight=named), en)
    assert chart.failing == named
    assert chart.labels.failing == f"First failing backup: {en.datetime(named, TOKYO)}"


DAY = date(2026, 11, 30)


def test_the_file_is_named_after_the_server_the_volume_and_the_day() -> None:
    assert chart_filename("fs01", "D:", DAY) == "fs01-D-2026-11-30.png"
    assert chart_filename("fs01", "\\\\?\\Volume{1b2c}\\", DAY) == (
        "fs01-Volume1b2c-2026-11-30.png"
    )
    assert chart_filename("fs01", "\\\\", DAY) == "fs01-volume-2026-11-30.png"
    assert chart_filename("fs01", "x" * 5000 + ";rm", DAY) == f"fs01-{'x' * 32}-2026-11-30.png"
