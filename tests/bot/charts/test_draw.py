"""The chart as a real PNG: its size, and its lines found by colour where they belong."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from bot.charts import draw
from bot.charts.draw import HEIGHT_PX, WIDTH_PX, trend_png
from bot.charts.fonts import family_for
from bot.charts.series import VolumeTrend, volume_trend, windows_ahead
from checks.i18n import Catalog
from checks.inventory import Server
from tests.bot.charts.conftest import NOW, TOKYO, Drain

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _pixels(png: bytes, colour: str) -> list[tuple[int, int]]:
    """Where the image has exactly this colour, as (x, y)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    wanted = _rgb(colour)
    width, height = image.size
    data = image.load()
    assert data is not None
    return [(x, y) for y in range(height) for x in range(width) if data[x, y] == wanted]


@pytest.fixture
def draining(server: Server, drain: Drain) -> VolumeTrend:
    return volume_trend(server, drain(), windows_ahead(server, None, NOW, TOKYO), NOW, TOKYO)


def test_the_chart_is_a_png_of_the_expected_size(draining: VolumeTrend, en: Catalog) -> None:
    png = trend_png(draining, en)
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size == (WIDTH_PX, HEIGHT_PX)


def test_the_thresholds_are_horizontal_lines_across_the_plot_minimum_below_recommendation(
    draining: VolumeTrend, en: Catalog
) -> None:
    png = trend_png(draining, en)
    rows = {}
    for colour in (draw.MINIMUM, draw.RECOMMENDED):
        spots = _pixels(png, colour)
        by_row: dict[int, int] = {}
        for _, y in spots:
            by_row[y] = by_row.get(y, 0) + 1
        row, count = max(by_row.items(), key=lambda item: item[1])
        assert count > WIDTH_PX * 0.7  # a line across the plot, not a legend swatch
        rows[colour] = row
    assert rows[draw.MINIMUM] > rows[draw.RECOMMENDED]  # 320 MB is drawn lower than 1 GB


def test_the_first_failing_window_is_highlighted_only_when_there_is_one(
    server: Server, drain: Drain, draining: VolumeTrend, en: Catalog
) -> None:
    assert draining.forecast.first_failing is not None
    highlighted = _pixels(trend_png(draining, en), draw.FAILING)
    by_column: dict[int, int] = {}
    for x, _ in highlighted:
        by_column[x] = by_column.get(x, 0) + 1
    assert max(by_column.values()) > HEIGHT_PX * 0.6  # a band the plot's whole height
    steady = volume_trend(
        server,
        drain(per_day=0, free_now=20 * 2**30),
        windows_ahead(server, None, NOW, TOKYO),
        NOW,
        TOKYO,
    )
    assert steady.forecast.first_failing is None
    assert _pixels(trend_png(steady, en), draw.FAILING) == []


def test_japanese_labels_without_a_japanese_font_are_drawn_in_english_and_logged(
    draining: VolumeTrend, ja: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.charts.draw")
    png = trend_png(draining, ja)
    assert png.startswith(PNG_SIGNATURE)
    warned = [r.getMessage() for r in caplog.records]
    if family_for("空き容量の予測時刻") is None:  # no CJK font here: never tofu in silence
        assert warned == [
            "no installed font has glyphs for the ja chart labels; drawing them in English "
            "(install a CJK font such as fonts-noto-cjk to draw them in ja)"
        ]
    else:
        assert warned == []


@pytest.mark.parametrize("name", ["$\\undefinedcmd$", "$x^$", "Data $1 and $2\\"])
def test_a_volume_label_with_dollar_signs_is_drawn_as_text(
    server: Server, drain: Drain, en: Catalog, name: str
) -> None:
    hostile = volume_trend(
        server, drain(name=name), windows_ahead(server, None, NOW, TOKYO), NOW, TOKYO
    )
    png = trend_png(hostile, en)
    assert png.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(png)).size == (WIDTH_PX, HEIGHT_PX)


def test_a_font_is_found_for_latin_text_and_none_for_glyphs_no_font_has() -> None:
    assert family_for("fs01 D:\\: free space (GB)") is not None
    assert family_for("\U0010fffd") is None  # a private-use code point
