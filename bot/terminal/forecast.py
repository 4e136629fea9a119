"""`backupcheck forecast --history FILE`: each volume's free-space trend from a CSV history, the
first backup window that will lack the space a shadow copy needs, and what to free, offline.

The same pure forecaster as the bot (checks.forecast); this module only reads the options and
the file, and hands the results to forecast_render.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from bot.terminal.console import fail
from bot.terminal.forecast_csv import (
    MAX_HISTORY_BYTES,
    History,
    HistoryError,
    parse_history,
    parse_moment,
    shown,
)
from bot.terminal.options import ConfigOption, LangOption, load_catalog
from checks.forecast import VolumeForecast, daily_windows, forecast_volume
from checks.i18n import Catalog
from checks.report import worst

_NEVER = datetime.max.replace(tzinfo=UTC)


class ForecastFormat(StrEnum):
    """How forecasts are printed."""

    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True)
class Asked:
    """What the options ask for, checked."""

    now: datetime
    horizon: timedelta
    windows: list[datetime]
    zone: tzinfo


def forecast(
    history: Annotated[
        str,
        typer.Option(
            "--history", help="CSV of timestamp,volume,capacity_bytes,free_bytes (- for stdin)."
        ),
    ],
    window: Annotated[
        list[str] | None,
        typer.Option("--window", help="A backup time, ISO 8601 with its offset (repeatable)."),
    ] = None,
    schedule: Annotated[
        list[str] | None,
        typer.Option("--schedule", help="A daily backup time such as 21:00 (repeatable)."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="The zone of --schedule, and of the times shown."),
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Forecast as of this time (default: now).")
    ] = None,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, max=90, help="How far ahead, in days.")
    ] = 7,
    output: Annotated[
        ForecastFormat, typer.Option("--format", "-f", help="table for people, json for scripts.")
    ] = ForecastFormat.TABLE,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Forecast each volume's free space from a CSV history: its trend, the first backup window
    below the shadow-copy minimum or 1 GB, and what to free (exit code: the worst, as `check`)."""
    t = load_catalog(lang, config)
    # Imported here: rich's tables cost start-up that `evaluate` need not pay.
    from rich.console import Console

    from bot.terminal.forecast_render import forecast_json, forecast_table, volume_status

    try:
        volumes = parse_history(_read(history, t), history, t)
    except HistoryError as error:
        fail(str(error))
    asked = _asked(window or [], schedule or [], timezone, now, horizon_days, volumes, t)
    results = {
        name: forecast_volume(observations, asked.windows, asked.now, asked.horizon)
        for name, observations in volumes.items()
    }
    ordered = sorted(results.items(), key=_worst_first)
    if output is ForecastFormat.JSON:
        until = asked.now + asked.horizon
        typer.echo(forecast_json(ordered, asked.now, until, asked.zone, asked.windows))
    else:
        given = bool(asked.windows)
        Console().print(forecast_table(ordered, asked.now + asked.horizon, asked.zone, given, t))
        if not given:
            Console().print(t.text("forecast.no_windows"))
    statuses = [volume_status(r, bool(asked.windows)) for r in results.values()]
    raise typer.Exit(worst(statuses).exit_code)


def _read(name: str, t: Catalog) -> bytes:
    """The file, or stdin for -, one byte past the limit at most, so that it can be refused."""
    try:
        if name == "-":
            return sys.stdin.buffer.read(MAX_HISTORY_BYTES + 1)
        with Path(name).open("rb") as stream:
            return stream.read(MAX_HISTORY_BYTES + 1)
    except OSError as error:
        fail(t.text("error.file_unreadable", path=name, reason=error.strerror or error))


def _asked(
    window: list[str],
    schedule: list[str],
    timezone: str | None,
    now_text: str | None,
    horizon_days: int,
    volumes: History,
    t: Catalog,
) -> Asked:
    now = datetime.now(UTC)
    if now_text is not None:
        parsed = parse_moment(now_text)
        if parsed is None:
            fail(t.text("forecast.bad_option_time", option="--now", value=shown(now_text)))
        now = parsed
    horizon = timedelta(days=horizon_days)
    windows = []
    for text in window:
        moment = parse_moment(text)
        if moment is None:
            fail(t.text("forecast.bad_option_time", option="--window", value=shown(text)))
        windows.append(moment)
    zone = _zone(timezone, t) if timezone else None
    if schedule:
        if zone is None:
            fail(t.text("forecast.schedule_needs_zone"))
        times = [_time_of_day(text, t) for text in schedule]
        windows += daily_windows(times, zone, now, now + horizon)
    if zone is None:
        # As for servers: the zone the times were written in, else UTC.
        latest = max(o.at for observations in volumes.values() for o in observations)
        zone = (windows[0] if windows else latest).tzinfo or UTC
    return Asked(now, horizon, sorted(windows), zone)


def _zone(name: str, t: Catalog) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        fail(t.text("forecast.bad_zone", value=shown(name)))


def _time_of_day(text: str, t: Catalog) -> time:
    try:
        at = time.fromisoformat(text.strip())
    except ValueError:
        fail(t.text("forecast.bad_schedule", value=shown(text)))
    if at.tzinfo is not None:
        fail(t.text("forecast.bad_schedule", value=shown(text)))
    return at


def _worst_first(item: tuple[str, VolumeForecast]) -> tuple[int, datetime, str]:
    name, result = item
    failing = result.first_failing
    soonest = failing.at if failing else result.below_recommended_at or result.below_minimum_at
    return (-max(result.status.rank, result.horizon_status.rank), soonest or _NEVER, name)
