"""Backup windows: when each server backs up next, and when backupcheck checks it before that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from checks.inventory import WEEKDAYS, Server
from checks.report import Report


@dataclass(frozen=True)
class Window:
    """One server's next backup and the check a lead time before it (None: not known)."""

    server: str
    next_backup_at: datetime | None
    check_at: datetime | None
    reason: str | None  # why the window is not known


def plan_windows(servers: list[Server], reports: list[Report]) -> list[Window]:
    """Windows (configured, else the servers' own schedules), soonest first; unknown ones last."""
    windows = []
    for server, report in zip(servers, reports, strict=True):
        # The server's own answer is fresh here, so it is taken as is.
        nxt = configured_window(server, report.checked_at) or report.next_backup_at
        reason = None
        if nxt is None:
            failed = next((f for f in report.findings if f.code == "CHECK_FAILED"), None)
            reason = failed.message if failed else None
        check_at = nxt - timedelta(minutes=server.lead_time_min) if nxt else None
        windows.append(Window(server.name, nxt, check_at, reason))
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
