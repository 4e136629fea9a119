"""Any string a host sends renders inert in every output: terminal, JSON, Nagios and Block Kit.

Reports are built with model_copy, which skips validation on purpose: the renderers must hold
even for strings the Snapshot model would refuse.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from rich.console import Console, RenderableType

from bot.alerts.lifecycle import AlertPolicy, on_check
from bot.alerts.message import alert_blocks
from bot.display import inert_json, visible
from bot.i18n import catalog
from bot.slack.blocks import report_blocks, summary_blocks, windows_blocks
from bot.terminal.nagios import render_nagios, render_nagios_fleet
from bot.terminal.render import print_report, summary_table, windows_table
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.report import Command, Finding, Report, Status, Tip, reports_json
from checks.snapshot import parse_snapshot
from checks.windows import Window
from tests.conftest import FIXTURES, NOW
from tests.support.slack_blocks import check_blocks

CATALOGS = {"en": catalog("en"), "ja": catalog("ja")}
SEED = parse_snapshot((FIXTURES / "snapshots" / "seed-incident.json").read_bytes())
BASE = {lang: evaluate(SEED, NOW, t) for lang, t in CATALOGS.items()}

# Pieces that broke or forged output before, mixed into arbitrary text.
ATTACKS = [
    "[/]",
    "[link=https://evil.example]x[/link]",
    "[bold red]",
    "\x1b]0;pwned\x07",
    "\x1b]8;;https://evil.example\x1b\\x\x1b]8;;\x1b\\",
    "\x1b[2J",
    "\x9b31m",
    "\nOK - all fine",
    "\r\n",
    "| 'C: free'=1B;;;0;1",
    "'",
    "=",
    "<!channel>",
    "<@U0123>",
    "<https://evil.example|click>",
    "https://evil.example",
    "&lt;!here&gt;",
    "```",
    "`",
    "*",
    "_",
    ":smile:",
    "\u202e",
    "\u2066",
    "\u2028",
]
HOSTILE = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(ATTACKS)), max_size=8).map(
    "".join
)
LANGS = st.sampled_from(sorted(CATALOGS))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What no output may hold but the newlines its renderer writes: C0, DEL, C1, bidi, separators.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def hostile(base: Report, s: str) -> Report:
    """The report with every host string replaced by (or extended with) s."""

    def tip(old: Tip) -> Tip:
        commands = [c.model_copy(update={"text": f"{c.text} {s}"}) for c in old.commands]
        return old.model_copy(update={"text": s, "commands": commands})

    volumes = [
        v.model_copy(update={"name": s, "label": s, "letter": s if n else None})
        for n, v in enumerate(base.volumes)
    ]
    findings = [
        f.model_copy(update={"message": f"{f.message} {s}", "tips": [tip(x) for x in f.tips]})
        for f in base.findings
    ]
    warning = Finding(
        severity=Status.INFO,
        code="COLLECTION_WARNING",
        volume_id=None,
        message=s,
        tips=[Tip(code="x", text=s, commands=[Command(shell="cmd", text=s, elevated=True)])],
    )
    return base.model_copy(update={"host": s, "volumes": volumes, "findings": [*findings, warning]})


def from_engine(s: str, t: Catalog) -> Report:
    """The real rules on a snapshot whose host, labels and warnings are s."""
    volumes = [v.model_copy(update={"label": s}) for v in SEED.volumes]
    snapshot = SEED.model_copy(update={"host": s, "volumes": volumes, "warnings": [s, s]})
    return evaluate(snapshot, NOW, t)


def reports_for(s: str, lang: str) -> list[Report]:
    t = CATALOGS[lang]
    return [hostile(BASE[lang], s), from_engine(s, t), unknown_report(s, s, NOW, t)]


def terminal(draw: RenderableType | Report, t: Catalog, color: bool) -> str:
    console = Console(
        file=StringIO(),
        force_terminal=True,
        color_system="truecolor" if color else None,
        width=100,
    )
    if isinstance(draw, Report):
        print_report(draw, t, console)
    else:
        console.print(draw)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def assert_inert_terminal(draw: RenderableType | Report, t: Catalog) -> str:
    plain = terminal(draw, t, color=False)
    assert not FORBIDDEN.search(plain), repr(plain)
    # In colour the only escapes are rich's own SGR styles: no OSC (title, OSC 8 link), no CSI.
    coloured = terminal(draw, t, color=True)
    assert "\x1b]" not in coloured
    assert not FORBIDDEN.search(SGR.sub("", coloured)), repr(coloured)
    return plain


@PROPERTY
@given(s=HOSTILE, lang=LANGS)
def test_the_terminal_shows_any_host_string_as_plain_text(s: str, lang: str) -> None:
    t = CATALOGS[lang]
    reports = reports_for(s, lang)
    for report in reports:
        plain = assert_inert_terminal(report, t)
        # The verdict is never wrapped: the host's name is on its last line, as plain text.
        assert visible(s) in plain.splitlines()[-1]
    assert_inert_terminal(summary_table(reports, t), t)
    windows = [Window(s, None, None, s), Window(s, NOW, NOW - timedelta(hours=1), None)]
    assert_inert_terminal(windows_table(windows, t), t)


@PROPERTY
@given(s=HOSTILE, lang=LANGS)
def test_json_keeps_any_host_string_and_prints_no_control_character(s: str, lang: str) -> None:
    reports = reports_for(s, lang)
    for report in reports:
        document = inert_json(report.to_json())
        assert not FORBIDDEN.search(document)
        assert Report.model_validate_json(document) == report
    document = inert_json(reports_json(reports))
    assert not FORBIDDEN.search(document)
    assert TypeAdapter(list[Report]).validate_json(document) == reports


LABEL = "'(?:[^'=|\n]|'')+'"
PERF_ITEM = rf"{LABEL}=\d+B;(?:\d+:)?;(?:\d+:)?;0;\d+"
PERFDATA = re.compile(rf"{PERF_ITEM}(?: {PERF_ITEM})*")


def assert_plugin_output(output: str, status: Status, perf_items: int) -> None:
    assert not FORBIDDEN.search(output), repr(output)
    first, *details = output.split("\n")
    assert first.startswith(f"{status.name} - ")
    # Only the status line may carry `|`, once, and what follows it is performance data.
    assert all("|" not in line for line in details)
    assert first.count("|") == (1 if perf_items else 0)
    if perf_items:
        perf = first.split(" | ")[1]
        assert PERFDATA.fullmatch(perf), perf
        assert len(re.findall(rf"{LABEL}=", perf)) == perf_items


@PROPERTY
@given(s=HOSTILE, lang=LANGS)
def test_nagios_has_one_status_line_and_perfdata_that_parses(s: str, lang: str) -> None:
    t = CATALOGS[lang]
    reports = reports_for(s, lang)
    for report in reports:
        items = sum(v.status is not Status.INFO for v in report.volumes)
        assert_plugin_output(render_nagios(report, t), report.status, items)
    items = sum(v.status is not Status.INFO for r in reports for v in r.volumes)
    assert_plugin_output(render_nagios_fleet(reports, t), Status.CRITICAL, items)


def texts(value: Any) -> list[dict[str, Any]]:
    """Every text object in some blocks, however deep."""
    if isinstance(value, list):
        return [found for item in value for found in texts(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("type") in ("mrkdwn", "plain_text") else []
    return own + [found for item in value.values() for found in texts(item)]


def assert_inert_blocks(blocks: list[Any]) -> None:
    dicts = [b.to_dict() for b in blocks]
    check_blocks(dicts)
    for text in texts(dicts):
        assert not FORBIDDEN.search(text["text"]), text
        if text["type"] == "mrkdwn":
            # No mention, channel or link of the host's (our renderers write no `<` here), and
            # no automatic link from a bare URL either. plain_text shows `<` as it is.
            assert "<" not in text["text"], text
            assert text.get("verbatim") is True, text


@PROPERTY
@given(s=HOSTILE, lang=LANGS)
def test_block_kit_is_valid_and_inert_for_any_host_string(s: str, lang: str) -> None:
    t = CATALOGS[lang]
    reports = reports_for(s, lang)
    for report in reports:
        assert_inert_blocks(report_blocks(report, t))
    assert_inert_blocks(summary_blocks(reports, t, total=len(reports)))
    windows = [Window(s, None, None, s), Window(s, NOW, NOW - timedelta(hours=1), None)]
    assert_inert_blocks(windows_blocks(windows, t))
    # An alert's server is a name from the config (at most 253 characters, and its controls
    # carry it in 150-character option values), so the host string is cut for it.
    report = reports[0].model_copy(update={"host": s[:100]})
    alert = on_check(None, report, NOW, NOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    assert_inert_blocks(alert_blocks(alert, report, t, NOW - timedelta(hours=1)))
