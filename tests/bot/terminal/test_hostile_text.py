"""A host's labels and warnings reach the terminal, Nagios and JSON as inert text (issue 11)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from bot.terminal.nagios import render_nagios, render_nagios_fleet
from bot.terminal.render import summary_table, windows_table
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.snapshot import Snapshot
from checks.windows import Window
from tests.bot.conftest import Run
from tests.conftest import FIXTURES

LABELS = ["[/]", "[link=https://evil.example]x[/link]", "\x1b]0;pwned\x07"]
WARNINGS = ["A\nOK - all fine", "x | 'C: free'=1B;;;0;1", "\u202eexe.txt"]
SGR = re.compile("\x1b\\[[0-9;]*m")


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    """The seed incident, with the labels and warnings of a compromised host."""
    document = json.loads((FIXTURES / "snapshots" / "seed-incident.json").read_text("utf-8"))
    for volume, label in zip(document["volumes"], LABELS, strict=True):
        volume["label"] = label
    document["warnings"] = WARNINGS
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_the_table_shows_markup_and_escapes_as_text(run: Run, hostile_file: Path) -> None:
    # A terminal that takes colour: links and titles would be live here if rich parsed markup.
    result = run("evaluate", str(hostile_file), env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert result.returncode == 2, result.stderr  # CRITICAL, as without the labels
    assert result.stderr == ""
    out = SGR.sub("", result.stdout)
    assert "\x1b" not in out  # no title, no OSC 8 link: only rich's own colours
    assert "│ [/]" in out
    assert "[link=https://evil.example]x[/link]" in out.replace("│", "").replace(" ", "")
    assert "\\x1b]0;pwned\\x07" in out
    assert "Not everything could be read: A\\x0aOK - all fine" in out
    assert "\\u202eexe.txt" in out


def test_nagios_keeps_one_status_line(run: Run, hostile_file: Path) -> None:
    result = run("evaluate", str(hostile_file), "-f", "nagios")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("CRITICAL - SERVER01: D: has 235 MB free")
    assert not any(line.startswith("OK") for line in lines)
    assert "INFO: Not everything could be read: A\\x0aOK - all fine" in lines
    assert "INFO: Not everything could be read: x ¦ 'C: free'=1B;;;0;1" in lines
    assert all("|" not in line for line in lines[1:])


def test_json_keeps_the_strings_exactly(run: Run, hostile_file: Path) -> None:
    result = run("evaluate", str(hostile_file), "-f", "json")
    assert "\x1b" not in result.stdout
    assert "\u202e" not in result.stdout
    report = json.loads(result.stdout)
    assert [v["label"] for v in report["volumes"]] == LABELS
    assert [f["message"] for f in report["findings"] if f["code"] == "COLLECTION_WARNING"] == [
        f"Not everything could be read: {w}" for w in WARNINGS
    ]


def test_perfdata_labels_are_quoted_per_the_plugin_guidelines(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    snapshot = load_snapshot("seed-incident")
    volumes = [
        v.model_copy(update={"letter": None, "label": label})
        for v, label in zip(snapshot.volumes, ["it's", "a=b", "c|d"], strict=True)
    ]
    report = evaluate(snapshot.model_copy(update={"volumes": volumes}), now, en)
    perf = render_nagios(report, en).splitlines()[0].split(" | ")[1]
    assert perf.startswith("'it''s free'=33285996544B;")
    assert " 'a_b free'=246415360B;" in perf
    assert " 'c¦d free'=80530636800B;" in perf


def test_the_fleet_puts_all_perfdata_on_the_status_line(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    seed = load_snapshot("seed-incident")
    reports = [
        evaluate(seed.model_copy(update={"host": "fs01"}), now, en),
        unknown_report("fs|02", "A\nOK - all fine", now, en),
    ]
    first, *hosts = render_nagios_fleet(reports, en).splitlines()
    assert first.startswith("CRITICAL - 2 servers, worst first: 1 critical, 1 unknown | ")
    assert "'fs01 D: free'=246415360B;1073741824:;335544320:;0;42949672960" in first
    # After the status line a `|` would start performance data: host lines carry none.
    assert hosts == [
        "CRITICAL - fs01: D: has 235 MB free, less than the 320 MB a volume shadow copy needs "
        "there. The backup will fail; free at least 85 MB.",
        "UNKNOWN - fs¦02: fs¦02 could not be checked: A\\x0aOK - all fine",
    ]


def _plain(renderable: RenderableType) -> str:
    console = Console(file=StringIO(), force_terminal=True, color_system="truecolor", width=120)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    assert "\x1b]" not in output
    return SGR.sub("", output)


def test_the_summary_and_windows_tables_show_host_names_as_text(now: datetime, en: Catalog) -> None:
    # `[/]` once closed a style that was never opened: rich raised and no table was printed.
    report = unknown_report("[/]", "[link=https://evil.example]x[/link] \x1b[2J", now, en)
    out = _plain(summary_table([report], en))
    assert "│ [/]" in out
    assert "[link=https://evil.example]x[/link] \\x1b[2J" in out
    windows = [Window("[/]", None, None, "\x1b]0;pwned\x07"), Window("[b]", now, now, None)]
    out = _plain(windows_table(windows, en))
    assert "│ [/]" in out
    assert "│ [b]" in out
    assert "\\x1b]0;pwned\\x07" in out


def test_an_error_sentence_quoting_outside_text_is_shown_inert(run: Run, tmp_path: Path) -> None:
    """A file name (or any text quoted in a one-sentence error) cannot send escapes to stderr."""
    name = str(tmp_path / "\x1b]0;pwned\x07.json")
    result = run("evaluate", name)
    assert result.returncode == 3
    assert "\x1b" not in result.stderr
    assert "\\x1b]0;pwned\\x07.json" in result.stderr


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("volumes", 1, "letter"), "D:'; Remove-Item -Recurse -Force C:\\Windows; '"),
        (("volumes", 1, "letter"), 'D:" & calc & "'),
        (("volumes", 1, "letter"), "D:\r\nRemove-Item C:\\"),
        (("volumes", 1, "name"), "D:\\\nOK - all fine"),
    ],
)
def test_a_snapshot_carrying_a_command_is_refused_by_the_real_cli(
    run: Run, tmp_path: Path, where: tuple[str, int, str], value: str
) -> None:
    """What Windows cannot produce never reaches a fix tip: one sentence naming the field."""
    document = json.loads((FIXTURES / "snapshots" / "seed-incident.json").read_text("utf-8"))
    section, index, field = where
    document[section][index][field] = value
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"backupcheck: {path}: the snapshot is invalid at {section}[{index}].")
    assert "Remove-Item" not in result.stdout


def test_a_network_target_path_carrying_a_command_is_refused(run: Run, tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "snapshots" / "network-target.json").read_text("utf-8"))
    document["backup"]["target"]["path"] = '\\\\nas01\\backup" & powershell -enc AAAA & "'
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 3
    assert "the snapshot is invalid at backup.target.path" in result.stderr
