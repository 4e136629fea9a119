"""Draws a trend chart as PNG with matplotlib's Agg backend (no display), imported on first use
so that the terminal's other commands never pay for it. Thin: bot.charts.plan decides what."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.charts.fonts import family_for
from bot.charts.plan import Chart, chart_plan
from bot.charts.series import VolumeTrend
from bot.i18n import catalog
from checks.i18n import Catalog

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

logger = logging.getLogger(__name__)

WIDTH_PX, HEIGHT_PX, DPI = 1000, 500, 100
# Colours also checked by the tests, pixel by pixel.
OBSERVED = "#1f5fa8"
MINIMUM = "#d62728"
RECOMMENDED = "#ff9900"
FORECAST = "#1f5fa8"
BAND = "#9ec3ea"
WINDOW = "#7f7f7f"
FAILING = "#f2b8b8"


def trend_png(trend: VolumeTrend, t: Catalog) -> bytes:
    """The volume's chart in t's language; in English, and said so in the log, when no
    installed font can draw that language's labels."""
    chart = chart_plan(trend, t)
    family = family_for(chart.labels.all())
    if family is None and t.lang != "en":
        logger.warning(
            "no installed font has glyphs for the %s chart labels; drawing them in English "
            "(install a CJK font such as fonts-noto-cjk to draw them in %s)",
            t.lang,
            t.lang,
        )
        chart = chart_plan(trend, catalog("en"))
        family = family_for(chart.labels.all())
    if family is None:
        logger.warning("no installed font has every glyph of chart %r", chart.labels.title)
    return render_png(chart, family)


def render_png(chart: Chart, family: str | None) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(family=[family] if family else ["sans-serif"])
    # A Figure of its own, never pyplot's global state: the check pool draws in several threads.
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = chart.labels
    if chart.failing is not None:
        # A band around the failing window, wide enough to see at a month's scale.
        half = (chart.end - chart.start) / 150
        span = (_num(chart.failing - half), _num(chart.failing + half))
        axes.axvspan(*span, color=FAILING, zorder=0, label=labels.failing)
    for n, window in enumerate(chart.windows):
        axes.axvline(
            _num(window),
            color=WINDOW,
            linestyle=":",
            linewidth=1,
            label=labels.windows if n == 0 else None,
            zorder=1,
        )
    if chart.band:
        times, lows, highs = zip(*chart.band, strict=True)
        moments = [_num(at) for at in times]
        axes.fill_between(moments, lows, highs, color=BAND, alpha=0.6, lw=0, label=labels.band)
    if chart.observed:
        times, values = zip(*chart.observed, strict=True)
        axes.plot(times, values, color=OBSERVED, linewidth=2, label=labels.observed, zorder=4)
    if chart.forecast:
        times, values = zip(*chart.forecast, strict=True)
        axes.plot(
            times,
            values,
            color=FORECAST,
            linewidth=2,
            linestyle="--",
            zorder=4,
            label=labels.forecast,
        )
    if chart.recommended is not None:
        axes.axhline(
            chart.recommended, color=RECOMMENDED, linewidth=2, zorder=3, label=labels.recommended
        )
    if chart.minimum is not None:
        axes.axhline(chart.minimum, color=MINIMUM, linewidth=2, zorder=3, label=labels.minimum)
    _frame(axes, chart, font)
    stream = io.BytesIO()
    figure.savefig(stream, format="png", dpi=DPI)
    return stream.getvalue()


def _frame(axes: Axes, chart: Chart, font: FontProperties) -> None:
    """Limits, the time axis in the server's zone, the labels, the note and the legend."""
    from matplotlib import dates

    zone = chart.start.tzinfo
    axes.set_xlim(_num(chart.start), _num(chart.end))
    axes.set_ylim(bottom=0)
    locator = dates.AutoDateLocator(tz=zone, maxticks=10)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = dates.DateFormatter("%m-%d %H:%M", tz=zone)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    labels = chart.labels
    # The title carries the host's volume label: "$" must stay a dollar sign, never mathtext
    # (a label such as $\foo$ would stop savefig).
    axes.set_title(labels.title, fontproperties=font, loc="left", parse_math=False)
    axes.set_xlabel(labels.x_axis, fontproperties=font, parse_math=False)
    axes.set_ylabel(labels.y_axis, fontproperties=font, parse_math=False)
    axes.grid(True, color="#e5e5e5", linewidth=0.8)
    if labels.note:
        axes.text(
            0.99,
            0.97,
            labels.note,
            transform=axes.transAxes,
            ha="right",
            va="top",
            fontproperties=font,
            parse_math=False,
        )
    small = font.copy()
    small.set_size("small")
    axes.figure.legend(prop=small, loc="outside lower center", ncols=4, frameon=False)


def _num(at: datetime) -> float:
    """matplotlib's own time axis unit (days since its epoch), for calls typed as float."""
    from matplotlib.dates import date2num

    return float(date2num(at))  # type: ignore[no-untyped-call]
