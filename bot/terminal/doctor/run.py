"""Runs every doctor check in order and prints one line per finding, ✓ or ✗ with its fix."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.config import Config
from bot.display import visible
from bot.terminal.console import UNKNOWN_EXIT, progress_bar
from bot.terminal.doctor.config import check_config
from bot.terminal.doctor.files import file_findings
from bot.terminal.doctor.findings import Finding, Outcome, exit_code, summary
from bot.terminal.doctor.servers import server_findings
from bot.terminal.render import STATUS_STYLE
from checks.diagnose import diagnose_fleet
from checks.i18n import Catalog, Lang
from checks.report import Status

MARKS = {
    Outcome.PASSED: ("✓", STATUS_STYLE[Status.OK]),
    Outcome.FAILED: ("✗", STATUS_STYLE[Status.CRITICAL]),
    Outcome.SKIPPED: ("–", STATUS_STYLE[Status.INFO]),
}


def run_doctor(config: Path | None, lang: Lang | None, *, slack: bool) -> int:
    """Check the config, Slack (unless told not to) and every server; the exit code."""
    # Imported here, as for every command that contacts servers (see console.run_fleet).
    from checks.collect.dispatch import collect_for

    settings, t, found = check_config(config, os.environ, lang)
    out = Console()
    print_findings(found, out)
    if settings is None:
        # As every command does on a config error; nothing else can be checked without it.
        return UNKNOWN_EXIT
    findings = list(found)
    if slack:
        # Imported here: the Slack SDK is needed only when Slack is checked.
        from bot.terminal.doctor.slack import check_slack

        slack_findings = check_slack(settings, os.environ, t)
    else:
        slack_findings = [
            Finding(t.text("doctor.check.slack"), Outcome.SKIPPED, t.text("doctor.no_slack"))
        ]
    print_findings(slack_findings, out)
    findings += slack_findings
    servers = settings.resolved()
    # A server read from a file is not contacted: its lines are about the file, not the network.
    over_winrm = [server for server in servers if not server.reads_file]
    with progress_bar() as bar:
        task = bar.add_task(t.text("doctor.progress"), total=len(over_winrm))
        diagnoses = diagnose_fleet(
            over_winrm,
            collect_for(settings, os.environ),
            progress=lambda diagnosis: bar.advance(task),
        )
    diagnosed = {diagnosis.server.name: diagnosis for diagnosis in diagnoses}
    now = datetime.now(UTC)
    for server in servers:
        if server.reads_file:
            steps = file_findings(server, now, t)
        else:
            steps = server_findings(diagnosed[server.name], settings, os.environ, t)
        print_findings(steps, out)
        findings += steps
    code = exit_code(findings)
    out.print(
        Text(summary(findings, t), style=STATUS_STYLE[Status.OK if code == 0 else Status.CRITICAL]),
        soft_wrap=True,
    )
    return code


def slack_problem(settings: Config, mode: str, t: Catalog) -> str | None:
    """What doctor would mark ✗ about Slack for this mode, as one sentence with its fix."""
    # Imported here: the Slack SDK is needed only when Slack is checked.
    from bot.terminal.doctor.slack import check_slack

    chosen = settings.model_copy(update={"slack": settings.slack.model_copy(update={"mode": mode})})
    failed = [f for f in check_slack(chosen, os.environ, t) if f.outcome is Outcome.FAILED]
    if not failed:
        return None
    first = failed[0]
    problem = f"{first.name}: {first.detail}" + (f" → {first.fix}" if first.fix else "")
    if len(failed) > 1:
        problem += t.text("serve.more_problems", count=len(failed) - 1)
    return t.text("serve.cannot_start", problem=problem)


def print_findings(findings: list[Finding], console: Console) -> None:
    """One line per finding, never wrapped, so that each can be grepped and pasted whole."""
    for finding in findings:
        mark, style = MARKS[finding.outcome]
        line = Text(f"{mark} ", style=style)
        # Names and details can quote what a server answered: shown inert, like every host string.
        line.append(visible(finding.name), style="bold")
        line.append(f": {visible(finding.detail)}")
        if finding.fix:
            line.append(f" → {visible(finding.fix)}", style="cyan")
        console.print(line, soft_wrap=True)
