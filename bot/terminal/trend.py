"""`backupcheck trend SERVER [VOLUME]`: a volume's stored free-space history, its forecast
against the server's backup windows, a sparkline, and with --png the chart Slack shows.

The history is the bot's (storage.url), read through a function imported on the spot, so that
the terminal's other commands never load SQLAlchemy or matplotlib.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.charts.series import (
    HORIZON,
    LOOKBACK,
    Reading,
    VolumeTrend,
    pick_volumes,
    volume_series,
    volume_trend,
    windows_ahead,
    worst_first,
)
from bot.charts.spark import daily_lows, sparkline
from bot.config import Config
from bot.display import visible
from bot.terminal.console import fail, say
from bot.terminal.options import ConfigOption, LangOption, load_settings
from bot.terminal.targets import chosen_servers
from checks.i18n import Catalog
from checks.report import worst
from checks.windows import server_zone


def trend(
    server: Annotated[str, typer.Argument(help="A server from the config's inventory.")],
    volume: Annotated[
        str | None, typer.Argument(help="One volume, such as D: (default: every one).")
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Write the volume's chart to this PNG file.")
    ] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Show a server's free-space trend from the bot's history: the forecast per volume and a
    30-day sparkline (exit code: the worst, as `forecast`; 3 when there is no history)."""
    # Imported here: rich's tables cost start-up that `evaluate` need not pay.
    from rich.console import Console
    from rich.markup import escape

    from bot.terminal.forecast_render import forecast_table, volume_status
    from bot.terminal.windows import stored_schedules

    settings, t = load_settings(lang, config)
    (target,) = chosen_servers(settings, [server], False, t, config)
    now = datetime.now(UTC)
    found = volume_series(_readings(settings, target.name, now, t))
    if not found:
        fail(t.text("trend.no_history", server=target.name))
    chosen = pick_volumes(found, volume)
    names = ", ".join(visible(s.label) for s in found)
    if not chosen:
        shown = visible((volume or "")[:40])
        fail(t.text("trend.unknown_volume", server=target.name, volume=shown, names=names))
    if png is not None and len(chosen) > 1:
        fail(t.text("trend.png_needs_volume", server=target.name, count=len(chosen), names=names))
    discovered = stored_schedules(settings, [target]).get(target.name, (None, now))[0]
    zone = server_zone(target, discovered)
    windows = windows_ahead(target, discovered, now, zone)
    trends = worst_first([volume_trend(target, s, windows, now, zone) for s in chosen])
    console = Console()
    table = forecast_table(
        [(r.series.label, r.forecast) for r in trends],
        now + HORIZON,
        zone,
        bool(windows),
        t,
    )
    table.title = t.text("trend.title", server=target.name, until=t.datetime(now + HORIZON, zone))
    console.print(table)
    if not windows:
        console.print(t.text("trend.no_windows", server=escape(target.name)))
    for result in trends:
        console.print(escape(_spark_line(result, t)), soft_wrap=True)
    if png is not None:
        _write_png(trends[0], png, t)
    raise typer.Exit(worst([volume_status(r.forecast, bool(windows)) for r in trends]).exit_code)


def _readings(settings: Config, server: str, now: datetime, t: Catalog) -> list[Reading]:
    from bot.terminal.windows import may_exist

    if not may_exist(settings.storage.url):
        fail(t.text("trend.no_database"))
    # Imported here: SQLAlchemy would slow every other command by a second.
    from bot.alerts.history import read_series

    readings = read_series(settings.storage.url, server, now - LOOKBACK)
    if readings is None:
        fail(t.text("trend.no_database"))
    return list(readings)


def _spark_line(result: VolumeTrend, t: Catalog) -> str:
    lows = daily_lows(result.series.observations, result.now, result.zone)
    present = [v for v in lows if v is not None]
    return t.text(
        "trend.sparkline",
        volume=visible(result.series.label),
        spark=sparkline(lows),
        low=t.size(min(present, default=0)),
        high=t.size(max(present, default=0)),
    )


def _write_png(result: VolumeTrend, path: Path, t: Catalog) -> None:
    # Imported here: matplotlib is needed by --png alone.
    from bot.charts.draw import trend_png

    data = trend_png(result, t)
    try:
        path.write_bytes(data)
    except OSError as error:
        fail(t.text("trend.png_unwritable", path=path, reason=error.strerror or error))
    say(t.text("trend.png_written", volume=visible(result.series.label), path=path))
