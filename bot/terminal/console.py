"""What every terminal command shares: one-sentence errors on stderr and the progress bar."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.display import visible
from checks.report import Status

PROGRAM = "backupcheck"
UNKNOWN_EXIT = Status.UNKNOWN.exit_code


def progress_bar() -> Progress:
    """A progress bar on stderr that vanishes when done; off unless stderr is a terminal."""
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


def fail(sentence: str) -> NoReturn:
    """Say why the command cannot go on, and exit UNKNOWN (3) as Nagios expects."""
    say(sentence)
    raise typer.Exit(UNKNOWN_EXIT)


def say(sentence: str) -> None:
    """One sentence on stderr, unwrapped so that log collectors keep it on one line."""
    Console(stderr=True).print(
        f"{PROGRAM}: {visible(sentence)}", markup=False, highlight=False, soft_wrap=True
    )
