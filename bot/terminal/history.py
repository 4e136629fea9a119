"""`backupcheck history SERVER`: the server's last 14 backup windows from the bot's database:
the pre-check, how the backup went, who acknowledged its alert and when, and the space freed.

The database is read through a function imported on the spot, so that the terminal's other
commands never load SQLAlchemy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.terminal.console import fail
from bot.terminal.options import ConfigOption, LangOption, load_settings
from bot.terminal.targets import chosen_servers


def history(
    server: Annotated[str, typer.Argument(help="A server from the config's inventory.")],
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Show a server's last 14 backup windows from the bot's database: the pre-check, the
    backup's outcome, who acknowledged and after how long, the space freed (exit code 0; 3 with
    one sentence for an unknown server, no database or no verified window yet)."""
    # Imported here: rich's tables cost start-up that `evaluate` need not pay.
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from bot.alerts.history_lines import line_text
    from bot.terminal.windows import may_exist, stored_schedules
    from checks.i18n import in_zone, zone_label
    from checks.windows import server_zone

    settings, t = load_settings(lang, config)
    (target,) = chosen_servers(settings, [server], False, t, config)
    if not may_exist(settings.storage.url):
        fail(t.text("history.no_database"))
    # Imported here: SQLAlchemy would slow every other command by a second.
    from bot.alerts.history_read import read_window_history

    found = read_window_history(settings.storage.url, target.name)
    if found is None:
        fail(t.text("history.no_database"))
    if not found.lines:
        fail(t.text("history.no_history", server=target.name))
    now = datetime.now(UTC)
    discovered = stored_schedules(settings, [target]).get(target.name, (None, now))[0]
    zone = server_zone(target, discovered)
    label = zone_label(in_zone(found.lines[0].window_at, zone))
    table = Table(
        title=t.text("history.title", server=target.name, count=len(found.lines), zone=label)
    )
    for key in ("window", "precheck", "outcome", "acknowledged", "freed"):
        table.add_column(t.text(f"history.col_{key}"), overflow="fold")
    for line in found.lines:
        cells = line_text(line, zone, t)
        table.add_row(
            *(
                escape(c)
                for c in (
                    cells.window,
                    cells.precheck,
                    cells.outcome,
                    cells.acknowledged,
                    cells.freed,
                )
            )
        )
    Console().print(table)
