"""`backupcheck windows`: each server's next backup and scheduled check, without contacting any
server unless asked to (--refresh).

Without --refresh the windows are what the bot itself would plan: the configured backup times,
else each server's own schedule as the bot last stored it. The stored plan is read only when
the configured database exists, and through a function imported on the spot, so that the
terminal's other commands never load SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from bot.config import Config
from bot.terminal.render import windows_table
from checks.i18n import Catalog
from checks.inventory import Server
from checks.report import Report
from checks.windows import Window, known_windows, plan_windows

Discovered = dict[str, tuple[datetime | None, datetime]]


def show_windows(
    settings: Config,
    servers: list[Server],
    t: Catalog,
    console: Console,
    check: Callable[[], list[Report]] | None = None,
    now: datetime | None = None,
) -> None:
    """Print the windows table; with `check` (--refresh), from the servers' answers now."""
    # With alerts on, the scheduler spreads checks by a per-server jitter: the times shown are
    # the ones it uses. Without, nothing is scheduled, and the time is the lead time before.
    scheduled = settings.alerts.channel is not None
    jitter = timedelta(seconds=settings.alerts.jitter_s if scheduled else 0)
    windows: list[Window]
    if check is not None:
        windows = plan_windows(servers, check(), jitter)
    else:
        at = now or datetime.now(UTC)
        windows = known_windows(servers, stored_schedules(settings, servers), at, jitter)
    caption = None if scheduled else t.text("windows.no_schedule")
    console.print(windows_table(windows, t, caption))


def stored_schedules(settings: Config, servers: list[Server]) -> Discovered:
    """Each server's own schedule as the bot last stored it; empty when there is none to read."""
    if all(server.backup_times for server in servers):
        return {}  # every window is configured: nothing to read
    if not may_exist(settings.storage.url):
        return {}
    # Imported here: SQLAlchemy would slow every other command by a second.
    from bot.alerts.schedule.store import read_discovered

    return read_discovered(settings.storage.url) or {}


def may_exist(url: str) -> bool:
    """False for a SQLite file that does not exist: no bot has stored a plan there."""
    if not url.startswith("sqlite"):
        return True
    path = url.partition(":///")[2].partition("?")[0]
    return bool(path) and Path(path).is_file()
