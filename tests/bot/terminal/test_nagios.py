"""Nagios/Icinga output: one status line with perfdata, exit code by status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.terminal.nagios import render_nagios
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.snapshot import Snapshot
from tests.bot.conftest import Run
from tests.conftest import FIXTURES


def test_the_first_line_is_status_summary_and_perfdata(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    lines = render_nagios(evaluate(load_snapshot("seed-incident"), now, en), en).splitlines()
    status, perf = lines[0].split(" | ")
    assert status.startswith("CRITICAL - SERVER01: D: has 235 MB free")
    assert "'D: free'=246415360B;1073741824:;335544320:;0;42949672960" in perf
    assert perf.count("=") == 3  # C:, D: and E:
    assert lines[1].startswith("INFO: The last backup failed with 0x80780119")


def test_volumes_outside_the_backup_have_no_perfdata(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    first = render_nagios(evaluate(load_snapshot("japanese-labels"), now, en), en).splitlines()[0]
    assert "'F: free'" not in first
    assert first.startswith("WARNING - ")


def test_an_unknown_host_has_no_perfdata(now: datetime, en: Catalog) -> None:
    output = render_nagios(unknown_report("srv9", "connection refused", now, en), en)
    assert output == "UNKNOWN - srv9: srv9 could not be checked: connection refused"


def test_the_cli_prints_it_with_the_exit_code(run: Run) -> None:
    result = run("evaluate", str(FIXTURES / "snapshots" / "seed-incident.json"), "-f", "nagios")
    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL - SERVER01: ")
