"""Backup windows: when each server backs up next, and when backupcheck checks it before that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.inventory import Server
from checks.report import Report


@dataclass(frozen=True)
class Window:
    """One server's next backup and the check a lead time before it (None: not known)."""

    server: str
    next_backup_at: datetime | None
    check_at: datetime | None
    reason: str | None  # why the window is not known


def plan_windows(servers: list[Server], reports: list[Report]) -> list[Window]:
    """Windows from the servers' own schedules, soonest first; unknown ones last."""
    windows = []
    for server, report in zip(servers, reports, strict=True):
        nxt = report.next_backup_at
        reason = None
        if nxt is None:
            failed = next((f for f in report.findings if f.code == "CHECK_FAILED"), None)
            reason = failed.message if failed else None
        check_at = nxt - timedelta(minutes=server.lead_time_min) if nxt else None
        windows.append(Window(server.name, nxt, check_at, reason))
    return sorted(
        windows, key=lambda w: (w.next_backup_at is None, w.next_backup_at or 0, w.server)
    )
