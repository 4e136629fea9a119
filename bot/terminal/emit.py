"""Printing reports as a table, JSON or Nagios lines, and exiting with their Nagios code."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import NoReturn

import typer

from bot.display import inert_json
from bot.terminal.nagios import render_nagios, render_nagios_fleet
from bot.terminal.options import OutputFormat
from checks.i18n import Catalog
from checks.report import Report, reports_json, worst


def emit(report: Report, output: OutputFormat, t: Catalog, zone: tzinfo | None = None) -> NoReturn:
    """Print one report and exit with its status's code."""
    if output is OutputFormat.JSON:
        typer.echo(inert_json(report.to_json()))
    elif output is OutputFormat.NAGIOS:
        typer.echo(render_nagios(report, t))
    else:
        # Imported here: a Nagios plugin run every few minutes need not load rich's tables.
        from rich.console import Console

        from bot.terminal.render import print_report

        print_report(report, t, Console(), zone)
    raise typer.Exit(report.status.exit_code)


def emit_many(
    reports: list[Report], output: OutputFormat, t: Catalog, zones: Mapping[str, tzinfo]
) -> NoReturn:
    """Print several reports and exit with the worst status's code."""
    if output is OutputFormat.JSON:
        typer.echo(inert_json(reports_json(reports)))
    elif output is OutputFormat.NAGIOS:
        typer.echo(render_nagios_fleet(reports, t))
    else:
        from rich.console import Console

        from bot.terminal.render import summary_table

        Console().print(summary_table(reports, t, zones))
    raise typer.Exit(worst([r.status for r in reports]).exit_code)
