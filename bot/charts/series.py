"""A server's stored readings in, each volume's series, the backup windows ahead and its forecast
out. Pure: the readings, the server's settings and `now` are arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

from checks.forecast import Observation, VolumeForecast, forecast_volume
from checks.inventory import Server
from checks.windows import configured_window

LOOKBACK = timedelta(days=30)  # what the chart shows; the trend itself looks at fewer days
HORIZON = timedelta(days=7)
DAY = timedelta(days=1)
NEVER = timedelta(days=3650)  # sorts after every window in any horizon


class Reading(Protocol):
    """One stored reading of a volume (bot.alerts.history.Reading)."""

    @property
    def checked_at(self) -> datetime: ...
    @property
    def volume_id(self) -> str: ...
    @property
    def volume_name(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def capacity_bytes(self) -> int: ...
    @property
    def free_bytes(self) -> int: ...
    @property
    def required_free_bytes(self) -> int | None: ...


@dataclass(frozen=True)
class VolumeSeries:
    """One volume's readings, oldest first, and what its latest check said about it."""

    volume_id: str
    name: str
    in_backup: bool  # the latest check counted it (status other than info)
    minimum_bytes: int | None  # rule 2's demand at the latest check (summed for a diff area)
    observations: tuple[Observation, ...]

    @property
    def label(self) -> str:
        """The name people read: a drive's root (D:\\) as its letter (D:), as alerts write it."""
        root = self.name.removesuffix("\\")
        return root if len(root) == 2 and root[1] == ":" and root[0].isalpha() else self.name


@dataclass(frozen=True)
class VolumeTrend:
    """A volume's series and its forecast against the server's backup windows."""

    server: str
    series: VolumeSeries
    forecast: VolumeForecast
    windows: tuple[datetime, ...]
    now: datetime
    zone: tzinfo
    # The window an alert names for this volume, marked instead of the first failing one, so
    # that the chart in the alert's thread and the alert agree.
    highlight: datetime | None = None

    @property
    def day(self) -> date:
        """Today in the server's zone: what a chart is cached and named by."""
        return self.now.astimezone(self.zone).date()


def volume_series(readings: Sequence[Reading]) -> list[VolumeSeries]:
    """The readings grouped per volume, in the order of their names."""
    grouped: dict[str, list[Reading]] = {}
    for reading in sorted(readings, key=lambda r: r.checked_at):
        grouped.setdefault(reading.volume_id, []).append(reading)
    found = []
    for volume_id, rows in grouped.items():
        latest = rows[-1]
        found.append(
            VolumeSeries(
                volume_id,
                latest.volume_name or volume_id,
                latest.status != "info",
                latest.required_free_bytes,
                tuple(Observation(r.checked_at, r.capacity_bytes, r.free_bytes) for r in rows),
            )
        )
    return sorted(found, key=lambda s: (s.name.casefold(), s.volume_id))


def pick_volumes(found: Sequence[VolumeSeries], asked: str | None) -> list[VolumeSeries]:
    """The volume asked for (`D:`, `d`, `D:\\` or its id), else every volume in the backup (all
    of them when none is); empty when nothing matches."""
    if asked is None:
        return [s for s in found if s.in_backup] or list(found)
    wanted = _plain(asked)
    return [s for s in found if wanted in (_plain(s.name), _plain(s.volume_id))][:1]


def _plain(name: str) -> str:
    text = name.strip().rstrip("\\").casefold()
    return f"{text}:" if len(text) == 1 and text.isalpha() else text


def windows_ahead(
    server: Server,
    discovered: datetime | None,
    now: datetime,
    zone: tzinfo,
    horizon: timedelta = HORIZON,
) -> list[datetime]:
    """The backup windows in (now, now + horizon]: the configured ones, else the server's own
    next run as last stored, repeated daily at that time of day in the server's `zone`
    (Windows Server Backup schedules are daily times)."""
    end = now + horizon
    if server.backup_times:
        found = []
        at = configured_window(server, now)
        while at is not None and at <= end:
            found.append(at)
            at = configured_window(server, at)
        return found
    if discovered is None:
        return []
    local = discovered.astimezone(zone)
    clock = time(local.hour, local.minute, local.second)
    start = now.astimezone(zone).date()
    days = (horizon // DAY) + 2
    moments = (datetime.combine(start + DAY * n, clock, tzinfo=zone) for n in range(days))
    return sorted(w for w in moments if now < w <= end)


def volume_trend(
    server: Server,
    series: VolumeSeries,
    windows: Sequence[datetime],
    now: datetime,
    zone: tzinfo,
    horizon: timedelta = HORIZON,
) -> VolumeTrend:
    """The volume's forecast against the windows, as the forecast command makes it."""
    result = forecast_volume(series.observations, windows, now, horizon, series.minimum_bytes)
    return VolumeTrend(server.name, series, result, tuple(windows), now, zone)


def worst_first(trends: Sequence[VolumeTrend]) -> list[VolumeTrend]:
    """The worst status first (the windows', or the line's when that is worse), then the
    soonest failing window, then by name: as `backupcheck forecast` orders its table."""

    def key(trend: VolumeTrend) -> tuple[int, datetime, str]:
        result = trend.forecast
        failing = result.first_failing
        soonest = failing.at if failing else trend.now + NEVER
        rank = max(result.status.rank, result.horizon_status.rank)
        return (-rank, soonest, trend.series.label.casefold())

    return sorted(trends, key=key)
