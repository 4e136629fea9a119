"""The `backupcheck` command: the terminal shell around the check engine."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from bot.i18n import catalog
from bot.terminal.console import PROGRAM, UNKNOWN_EXIT, check_local, fail, run_fleet, say
from bot.terminal.emit import emit, emit_many
from bot.terminal.forecast import forecast
from bot.terminal.history import history
from bot.terminal.options import (
    ConfigOption,
    FormatOption,
    LangOption,
    OutputFormat,
    SchemaName,
    ServeMode,
    load_catalog,
    load_settings,
)
from bot.terminal.status import status
from bot.terminal.stored_trends import with_stored_trends
from bot.terminal.targets import chosen_servers
from bot.terminal.trend import trend
from checks.evaluate import evaluate
from checks.json_text import MAX_DOCUMENT_BYTES
from checks.report import Report
from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot
from checks.windows import server_zone

app = typer.Typer(
    name=PROGRAM,
    help="Finds volumes too full for Windows Server Backup's shadow copies, before the backup.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"{PROGRAM} {version(PROGRAM)}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Finds volumes too full for Windows Server Backup's shadow copies, before the backup."""


@app.command()
def check(
    servers: Annotated[
        list[str] | None, typer.Argument(help="Servers from the config's inventory.")
    ] = None,
    all_servers: Annotated[bool, typer.Option("--all", help="Check every server.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Check this machine's volumes.")] = False,
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Check volumes now; the exit code follows Nagios (0 ok, 1 warning, 2 critical, 3 unknown)."""
    settings, t = load_settings(lang, config)
    if local:
        if servers or all_servers:
            fail(t.text("error.local_alone"))
        emit(check_local(t), output, t)
    targets = chosen_servers(settings, servers or [], all_servers, t, config)
    reports = with_stored_trends(settings, run_fleet(settings, targets, t))
    # Times in each server's zone: its configured timezone, else the offset it reported.
    pairs = zip(targets, reports, strict=True)
    zones = {r.host: server_zone(server, r.next_backup_at) for server, r in pairs}
    if len(reports) == 1 and output is not OutputFormat.JSON:
        emit(reports[0], output, t, zones.get(reports[0].host))
    emit_many(reports, output, t, zones)


@app.command()
def windows(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask every server for its schedule now (slower).")
    ] = False,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Show each server's next backup and scheduled check, soonest first, from the config and
    the bot's stored plan: no server is contacted unless --refresh."""
    settings, t = load_settings(lang, config)
    targets = chosen_servers(settings, [], True, t, config)
    check = (lambda: run_fleet(settings, targets, t)) if refresh else None
    # Imported here: rich's tables cost start-up that `evaluate` need not pay.
    from rich.console import Console

    from bot.terminal.windows import show_windows

    show_windows(settings, targets, t, Console(), check)


@app.command("evaluate")
def evaluate_file(
    file: Annotated[str, typer.Argument(help="A Snapshot v1 JSON file, or - for stdin.")],
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Evaluate a Snapshot file (as a collector or the probe wrote it) and print the Report."""
    t = load_catalog(lang, config)
    try:
        # One byte past the limit is enough to refuse the file without holding all of it.
        if file == "-":
            data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
        else:
            with Path(file).open("rb") as stream:
                data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        fail(t.text("error.file_unreadable", path=file, reason=error.strerror or error))
    try:
        snapshot = parse_snapshot(data)
    except InvalidSnapshot as error:
        fail(f"{file}: {error}")
    emit(evaluate(snapshot, datetime.now(UTC), t), output, t)


@app.command()
def doctor(
    no_slack: Annotated[
        bool,
        typer.Option("--no-slack", help="Skip the Slack checks (command line or Nagios only)."),
    ] = False,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Check everything a first run needs, one line each with its fix (exit 0: all is well)."""
    from bot.terminal.doctor.run import run_doctor

    raise typer.Exit(run_doctor(config, lang.value if lang else None, slack=not no_slack))


@app.command()
def serve(
    mode: Annotated[
        ServeMode | None,
        typer.Option("--mode", help="socket (default: no public URL needed) or http."),
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="HTTP mode's port.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="HTTP mode's bind address.")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the Slack bot (tokens: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET)."""
    settings, t = load_settings(None, config)
    chosen = mode.value if mode else settings.slack.mode
    # The mistakes of a first run (a wrong token, no route to Slack, the bot not in the
    # channel) are told as doctor tells them, before anything starts.
    from bot.logs import configure_logging, known_secrets
    from bot.terminal.doctor.run import slack_problem

    problem = slack_problem(settings, chosen, t)
    if problem is not None:
        fail(problem)
    # A long-running service logs what it does, not only warnings; secrets are masked.
    configure_logging(settings.log_format, known_secrets(settings, os.environ))
    # Imported here: bolt, SQLAlchemy and APScheduler would slow every `check` run by seconds.
    from bot.serve import CannotStart
    from bot.serve import serve as run_bot

    try:
        run_bot(settings, chosen, port or settings.slack.http_port, os.environ, host)
    except CannotStart as error:
        fail(str(error))


@app.command()
def demo(
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Channel ID for the alerts (default: alerts.channel)."),
    ] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    """Try the bot in your Slack with simulated servers: a first alert within five minutes."""
    settings, t = load_settings(lang, config)
    # Imported here, as for `serve`: the demo runs the bot's whole stack.
    from bot.demo.run import DemoError, demo_channel, require_tokens, run_demo
    from bot.logs import configure_logging, known_secrets
    from bot.serve import CannotStart
    from bot.terminal.doctor.run import slack_problem

    try:
        chosen = demo_channel(settings, channel, t)
        require_tokens(os.environ, t)
    except DemoError as error:
        fail(str(error))
    # As `serve` does: a wrong token or the bot outside the channel is doctor's sentence.
    alerts = settings.alerts.model_copy(update={"channel": chosen})
    problem = slack_problem(settings.model_copy(update={"alerts": alerts}), "socket", t)
    if problem is not None:
        fail(problem)
    configure_logging(settings.log_format, known_secrets(settings, os.environ))
    try:
        run_demo(settings.model_copy(update={"language": t.lang}), chosen, os.environ, t, say)
    except (DemoError, CannotStart) as error:
        fail(str(error))


@app.command()
def health(config: ConfigOption = None) -> None:
    """Ask the running bot whether Slack is connected and the scheduler runs (exit 0: yes)."""
    settings, t = load_settings(None, config)
    from bot.health import ask_health

    status = ask_health(settings.slack.health_port) if settings.slack.health_port else None
    if status is None:
        say(t.text("health.no_answer", port=settings.slack.health_port))
        raise typer.Exit(1)
    line = t.text(
        "health.ok" if status.healthy else "health.bad",
        slack=t.text(f"health.slack_{status.slack}"),
        scheduler=t.text(f"health.scheduler_{status.scheduler}"),
    )
    typer.echo(line)
    raise typer.Exit(0 if status.healthy else 1)


app.command()(status)
app.command()(forecast)
app.command()(trend)
app.command()(history)


@app.command()
def schema(name: Annotated[SchemaName, typer.Argument(help="snapshot or report")]) -> None:
    """Print the JSON Schema of Snapshot v1 or Report v1."""
    model: type[Snapshot] | type[Report] = Snapshot if name is SchemaName.SNAPSHOT else Report
    typer.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


def main() -> None:
    """Console-script entry: Nagios exit codes even for usage errors, and never a traceback."""
    logging.basicConfig(level=logging.WARNING, format=f"{PROGRAM}: %(levelname)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        # Click exits 2 on a usage error, which a monitor would read as CRITICAL.
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            say(str(error))
        code = UNKNOWN_EXIT
    except typer.Abort:
        code = UNKNOWN_EXIT
    except Exception as error:  # noqa: BLE001 (the outermost shell: one sentence, exit 3)
        sentence = catalog("en").text("error.internal", kind=type(error).__name__)
        say(sentence)
        code = UNKNOWN_EXIT
    sys.exit(code if isinstance(code, int) else 0)
