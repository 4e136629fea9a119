"""What every terminal command shares: one-sentence errors on stderr, and checks of many
servers with a progress bar."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NoReturn

import typer

from bot.config import Config
from bot.display import visible
from checks.fleet import check_fleet
from checks.i18n import Catalog
from checks.inventory import Server
from checks.report import Report, Status

if TYPE_CHECKING:
    from rich.progress import Progress

PROGRAM = "backupcheck"
UNKNOWN_EXIT = Status.UNKNOWN.exit_code


def progress_bar() -> Progress:
    """A progress bar on stderr that vanishes when done; off unless stderr is a terminal."""
    # rich is imported when output needs it: `evaluate -f nagios` starts without it.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def run_fleet(settings: Config, targets: list[Server], t: Catalog) -> list[Report]:
    """Check servers with a progress bar on stderr (when it is a terminal)."""
    # Imported here: pywinrm, requests and spnego cost a quarter second that `evaluate`,
    # `schema` and `check --local` never need.
    from checks.collect.dispatch import collect_for

    with progress_bar() as bar:
        task = bar.add_task(t.text("progress.checking"), total=len(targets))
        return check_fleet(
            targets,
            collect_for(settings, os.environ),
            t,
            progress=lambda report: bar.advance(task),
        )


def fail(sentence: str) -> NoReturn:
    """Say why the command cannot go on, and exit UNKNOWN (3) as Nagios expects."""
    say(sentence)
    raise typer.Exit(UNKNOWN_EXIT)


def say(sentence: str) -> None:
    """One sentence on stderr, unwrapped so that log collectors keep it on one line."""
    from rich.console import Console

    Console(stderr=True).print(
        f"{PROGRAM}: {visible(sentence)}", markup=False, highlight=False, soft_wrap=True
    )
