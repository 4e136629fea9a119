"""`backupcheck status`: the bot's replicas, their last heartbeat, what each holds, and the next
checks, read from the bot's database without writing anything.

The database is read through a function imported on the spot, as `windows` does, so that the
terminal's other commands never load SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

from bot.config import Config
from bot.terminal.options import ConfigOption, LangOption, load_settings
from checks.i18n import Catalog

if TYPE_CHECKING:
    from rich.console import Console

    from bot.alerts.replicas import ReplicaStatus


def status(lang: LangOption = None, config: ConfigOption = None) -> None:
    """Show the bot's replicas, what each holds and the next checks (exit 0: one is alive)."""
    settings, t = load_settings(lang, config)
    # Imported here: rich's tables cost start-up that the other commands need not pay.
    from rich.console import Console

    raise typer.Exit(show_status(settings, t, Console()))


def show_status(
    settings: Config,
    t: Catalog,
    console: Console,
    now: datetime | None = None,
) -> int:
    """Print the replicas and the next checks; returns the exit code (0: a replica is alive)."""
    at = now or datetime.now(UTC)
    status = _read(settings.storage.url, at)
    if status is None:
        console.print(t.text("replicas.unreadable", database=_shown(settings.storage.url)))
        return 1
    # Imported here with the reader: the liveness rules and states are the bot's own.
    from rich.markup import escape
    from rich.table import Table

    from bot.slack.status_blocks import holdings, replica_state
    from bot.terminal.render import windows_table
    from checks.windows import known_windows

    table = Table(title=t.text("replicas.title"), title_justify="left")
    for key in ("replica", "host", "started", "heartbeat", "state", "holds"):
        table.add_column(t.text(f"replicas.{key}"))
    for beat in sorted(status.beats, key=lambda b: b.started_at, reverse=True):
        table.add_row(
            escape(beat.replica),
            escape(beat.host),
            t.datetime(beat.started_at),
            t.datetime(beat.seen_at),
            replica_state(beat, at, t),
            escape(holdings(status, beat.replica, t)),
        )
    console.print(table if status.beats else t.text("replicas.none"))
    alive = any(beat.alive(at) for beat in status.beats)
    if status.beats and not alive:
        console.print(t.text("replicas.none_alive"))
    jitter = timedelta(seconds=settings.alerts.jitter_s)
    windows = known_windows(settings.resolved(), status.discovered, at, jitter)
    console.print(windows_table(windows, t))
    return 0 if alive else 1


def _read(url: str, now: datetime) -> ReplicaStatus | None:
    from bot.terminal.windows import may_exist

    if not may_exist(url):
        return None
    # Imported here: SQLAlchemy would slow every other command by a second.
    from bot.alerts.heartbeats import read_status

    return read_status(url, now)


def _shown(url: str) -> str:
    """The database URL without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{credentials.partition(':')[0]}@{host}"
