"""Backup windows: when each server backs up next, and when backupcheck checks it before that.

Every time here is in the server's own zone (`server_zone`), so whoever shows it shows the
zone people at that server read their clocks in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from checks.inventory import WEEKDAYS, Server
from checks.report import Report

# Where a window's time comes from: the config's backup_times, or the server's own schedule.
WindowSource = Literal["config", "server"]


@dataclass(frozen=True)
class Window:
    """One server's next backup and the check a lead time before it (None: not known)."""

    server: str
    next_backup_at: datetime | None
    check_at: datetime | None
    reason: str | None  # why the window is not known
    source: WindowSource | None = None
    # When the server told us its schedule (source "server"); None for configured times.
    reported_at: datetime | None = None


def server_zone(server: Server | None, reported: datetime | None = None) -> tzinfo:
    """The zone a server's times are shown in: its configured timezone, else the offset it gave
    with its own next backup (a snapshot's time as the server reported it), else UTC."""
    if server is not None and server.timezone:
        return ZoneInfo(server.timezone)
    if reported is not None and reported.tzinfo is not None:
        return reported.tzinfo
    return UTC


def jitter_for(server: str, spread: timedelta) -> timedelta:
    """A fixed offset in [0, spread) per server: spread out, and the same after a restart."""
    if spread <= timedelta(0):
        return timedelta(0)
    digest = int.from_bytes(hashlib.sha256(server.encode("utf-8")).digest()[:8], "big")
    return timedelta(seconds=digest % int(spread.total_seconds() or 1))


def check_time(server: Server, window: datetime, jitter: timedelta = timedelta(0)) -> datetime:
    """When the scheduler checks a server before its window: the lead time and its jitter."""
    return window - timedelta(minutes=server.lead_time_min) - jitter_for(server.name, jitter)


def plan_windows(
    servers: list[Server], reports: list[Report], jitter: timedelta = timedelta(0)
) -> list[Window]:
    """Windows (configured, else the servers' own schedules), soonest first; unknown ones last."""
    windows = []
    for server, report in zip(servers, reports, strict=True):
        zone = server_zone(server, report.next_backup_at)
        configured = configured_window(server, report.checked_at)
        # The server's own answer is fresh here, so it is taken as is.
        nxt = configured or report.next_backup_at
        if nxt is None:
            failed = next((f for f in report.findings if f.code == "CHECK_FAILED"), None)
            windows.append(Window(server.name, None, None, failed.message if failed else None))
            continue
        windows.append(_window(server, nxt, zone, jitter, report.checked_at))
    return _soonest_first(windows)


def known_windows(
    servers: list[Server],
    discovered: Mapping[str, tuple[datetime | None, datetime]],
    now: datetime,
    jitter: timedelta = timedelta(0),
) -> list[Window]:
    """Windows without contacting any server: configured times, else each server's next run as
    it last reported it (`discovered`, the scheduler's stored plan), as the scheduler sees them."""
    windows = []
    for server in servers:
        seen_next, reported_at = discovered.get(server.name, (None, None))
        nxt = next_window(server, seen_next, now)
        if nxt is None:
            windows.append(Window(server.name, None, None, None))
            continue
        windows.append(_window(server, nxt, server_zone(server, seen_next), jitter, reported_at))
    return _soonest_first(windows)


def _window(
    server: Server, nxt: datetime, zone: tzinfo, jitter: timedelta, reported_at: datetime | None
) -> Window:
    """A known window in the server's zone; `reported_at` counts only for the server's own."""
    configured = bool(server.backup_times)
    source: WindowSource = "config" if configured else "server"
    reported = None if configured or reported_at is None else reported_at.astimezone(zone)
    check = check_time(server, nxt, jitter).astimezone(zone)
    return Window(server.name, nxt.astimezone(zone), check, None, source, reported)


def _soonest_first(windows: list[Window]) -> list[Window]:
    return sorted(
        windows, key=lambda w: (w.next_backup_at is None, w.next_backup_at or 0, w.server)
    )


def configured_window(server: Server, after: datetime) -> datetime | None:
    """The first configured backup time strictly after `after`, in the server's zone."""
    if not server.backup_times:
        return None
    zone = ZoneInfo(server.timezone) if server.timezone else UTC
    local = after.astimezone(zone)
    times = sorted(time.fromisoformat(t) for t in server.backup_times)
    for days_ahead in range(8):
        day = local.date() + timedelta(days=days_ahead)
        if WEEKDAYS[day.weekday()] not in server.backup_days:
            continue
        for at in times:
            # A local time that a DST change skips or repeats still maps to one instant (fold=0).
            candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
            if candidate > after:
                return candidate
    return None


def next_window(server: Server, discovered: datetime | None, now: datetime) -> datetime | None:
    """The window to check before: the configured one, else the server's own next run."""
    if server.backup_times:
        return configured_window(server, now)
    if discovered is not None and discovered > now:
        return discovered.astimezone(UTC)
    return None
