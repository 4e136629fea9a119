"""`/backupcheck trend`'s answer as Block Kit: each volume's figures and its 30-day sparkline.
Pure: forecasts in, blocks out; the figures are the terminal's (forecast_render.figures)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.charts.series import VolumeTrend
from bot.charts.spark import daily_lows, sparkline
from bot.slack.blocks import MAX_BLOCKS, MAX_HEADER, clip, escape, packed_sections
from bot.terminal.forecast_render import figures
from checks.i18n import Catalog


def trend_blocks(trends: Sequence[VolumeTrend], until_text: str, t: Catalog) -> list[Block]:
    """A header, then per volume its figures and sparkline, worst first as given."""
    server = trends[0].server if trends else ""
    title = t.text("trend.title", server=server, until=until_text)
    blocks: list[Block] = [HeaderBlock(text=clip(title, MAX_HEADER))]
    return blocks + packed_sections(
        [_volume(trend, t) for trend in trends], MAX_BLOCKS - len(blocks)
    )


def trend_fallback(trends: Sequence[VolumeTrend], until_text: str, t: Catalog) -> str:
    """The notification text."""
    server = trends[0].server if trends else ""
    return t.text("trend.title", server=server, until=until_text)


def _volume(trend: VolumeTrend, t: Catalog) -> str:
    result = trend.forecast
    given = bool(trend.windows)
    free, rate, failing, to_free, status = figures(result, trend.zone, given, t)
    capacity = t.size(result.capacity_bytes) if result.capacity_bytes is not None else "—"
    line = t.text(
        "trend.figures" if given else "trend.crossings",
        volume=escape(trend.series.label),
        free=free,
        capacity=capacity,
        trend=escape(rate),
        failing=escape(failing.replace("\n", "; ")),
        to_free=to_free,
    )
    lows = daily_lows(trend.series.observations, trend.now, trend.zone)
    present = [v for v in lows if v is not None]
    spark = t.text(
        "trend.sparkline",
        volume=escape(trend.series.label),
        spark=f"`{sparkline(lows)}`",
        low=t.size(min(present, default=0)),
        high=t.size(max(present, default=0)),
    )
    return f"{line} ({status})\n{spark}"
