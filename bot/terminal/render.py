"""Renders a Report for the terminal with rich: a volume table, findings with tips, a verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from bot.display import visible
from bot.trend_text import trend_text
from checks.i18n import Catalog
from checks.report import Command, Report, Status, VolumeReport
from checks.windows import Window, server_zone

COMMAND_INDENT = "    "
STATUS_STYLE = {
    Status.OK: "bold green",
    Status.WARNING: "bold yellow",
    Status.CRITICAL: "bold red",
    Status.UNKNOWN: "bold magenta",
    Status.INFO: "dim",
}


def print_report(report: Report, t: Catalog, console: Console, zone: tzinfo | None = None) -> None:
    """The report for people, its times in `zone` (default: the zone the server reported).

    Commands and the verdict are printed unwrapped: a command wrapped mid-argument cannot be
    pasted, and the verdict stays on one line so that it can be grepped."""
    for part in report_parts(report, t, zone):
        console.print(part, soft_wrap=isinstance(part, Text) and bool(part.no_wrap))
    console.print(verdict_line(report, t), soft_wrap=True)


def report_parts(report: Report, t: Catalog, zone: tzinfo | None = None) -> list[RenderableType]:
    """Everything above the verdict: the volume table, findings with tips, dates."""
    shown = zone or server_zone(None, report.next_backup_at)
    parts: list[RenderableType] = []
    if report.volumes:
        parts.append(volume_table(report, t, shown))
    parts += _findings(report, t)
    when = (
        t.text("report.next_backup", when=t.datetime(report.next_backup_at, shown))
        if report.next_backup_at
        else t.text("report.no_next_backup")
    )
    checked = t.text("report.checked_at", when=t.datetime(report.checked_at, shown))
    parts.append(Text(when + t.text("tip.sentence_separator") + checked, style="dim"))
    return parts


def volume_table(report: Report, t: Catalog, zone: tzinfo | None = None) -> Table:
    """One row per volume: name, label, roles, sizes, status, a usage bar and, where the stored
    history gives one, the trend."""
    # Every cell holding host text is a Text: a str cell would be parsed as rich markup.
    title = Text(t.text("table.title", host=visible(report.host)))
    table = Table(title=title, title_justify="left")
    table.add_column(t.text("table.volume"), overflow="fold", min_width=6)
    with_labels = any(v.label for v in report.volumes)
    if with_labels:
        table.add_column(t.text("table.label"), overflow="fold", min_width=6)
    table.add_column(t.text("table.roles"), overflow="fold")
    for key in ("size", "free", "required", "recommended"):
        table.add_column(t.text(f"table.{key}"), justify="right", min_width=6)
    table.add_column(t.text("table.status"))
    table.add_column(t.text("table.usage"), min_width=6)
    with_trends = any(v.trend is not None for v in report.volumes)
    if with_trends:
        table.add_column(t.text("table.trend"), overflow="fold")
    for v in report.volumes:
        label = [plain(v.label or "")] if with_labels else []
        trend = [trend_text(v, t, zone) or t.text("table.none")] if with_trends else []
        table.add_row(
            plain(v.letter or v.name),
            *label,
            "\n".join(t.text(f"role.{r.value}") for r in v.roles),
            t.size(v.capacity_bytes),
            Text(t.size(v.free_bytes), style=STATUS_STYLE[v.status] if v.shortfall_bytes else ""),
            _optional_size(v.required_free_bytes, t),
            _optional_size(v.recommended_free_bytes, t),
            status_text(v.status, t),
            _usage(v),
            *trend,
        )
    return table


def status_text(status: Status, t: Catalog) -> Text:
    """A status word in its colour."""
    return Text(t.text(f"status.{status.value}"), style=STATUS_STYLE[status])


def verdict_line(report: Report, t: Catalog) -> Text:
    """The one-line verdict that ends every report."""
    status = t.text(f"status.{report.status.value}")
    worst = next((f for f in report.findings if f.severity is report.status), None)
    if report.status is Status.OK or worst is None:
        line = t.text("report.verdict_ok", host=visible(report.host), status=status)
    else:
        summary = visible(worst.message)
        line = t.text("report.verdict", host=visible(report.host), status=status, summary=summary)
    return Text(line, style=STATUS_STYLE[report.status])


def plain(text: str) -> Text:
    """Host text for a table cell or line: never rich markup, no control characters."""
    return Text(visible(text))


def _optional_size(value: int | None, t: Catalog) -> str:
    return t.text("table.none") if value is None else t.size(value)


def _usage(v: VolumeReport, width: int = 6) -> Text:
    used = v.capacity_bytes - v.free_bytes
    share = used / v.capacity_bytes if v.capacity_bytes else 0.0
    filled = round(share * width)
    style = "cyan" if v.status in (Status.OK, Status.INFO) else STATUS_STYLE[v.status]
    bar = Text("━" * filled, style=style)
    bar.append("━" * (width - filled), style="grey35")
    bar.append(f" {100 * share:3.0f}%")
    return bar


def _findings(report: Report, t: Catalog) -> list[RenderableType]:
    if not report.findings:
        return []
    parts: list[RenderableType] = [Text(t.text("report.findings"), style="bold underline")]
    for finding in report.findings:
        line = Text()
        line.append(
            f"{t.text(f'severity.{finding.severity.value}')} ", style=STATUS_STYLE[finding.severity]
        )
        line.append(f"[{finding.code}] ", style="dim")
        line.append(visible(finding.message))
        parts.append(line)
        for tip in finding.tips:
            parts.append(Padding(Text("→ " + visible(tip.text)), (0, 0, 0, 2)))
            parts += command_lines(tip.commands, t)
    return parts


def command_lines(commands: Sequence[Command], t: Catalog) -> list[Text]:
    """Each command alone on its line, under a line that says in which shell and whether as
    administrator (once for consecutive commands that share both).

    A command's line holds nothing but the command (no prompt: pasted into PowerShell,
    `PS> x` would run Get-Process into a file named x), and no_wrap marks it for print_report
    to print unwrapped and uncropped, whatever the terminal's width."""
    lines: list[Text] = []
    previous: tuple[str, bool] | None = None
    for command in commands:
        if (command.shell, command.elevated) != previous:
            shell = t.text(f"report.shell_{command.shell}")
            if command.elevated:
                shell += f" ({t.text('report.elevated')})"
            lines.append(Text(f"{COMMAND_INDENT}{shell}:", style="dim"))
            previous = (command.shell, command.elevated)
        lines.append(Text(COMMAND_INDENT + visible(command.text), style="bold cyan", no_wrap=True))
    return lines


def summary_table(
    reports: list[Report], t: Catalog, zones: Mapping[str, tzinfo] | None = None
) -> Table:
    """One row per host, worst first: status, the worst finding, and the next backup (in the
    host's zone from `zones`, else the zone it reported)."""
    table = Table(title=t.text("summary.title", count=len(reports)), title_justify="left")
    table.add_column(t.text("summary.host"), overflow="fold")
    table.add_column(t.text("table.status"), no_wrap=True)
    table.add_column(t.text("summary.finding"), overflow="fold")
    table.add_column(t.text("summary.next_backup"))
    for report in sorted(reports, key=lambda r: (-r.status.rank, r.host.casefold())):
        top = next((f for f in report.findings if f.severity is report.status), None)
        nxt = report.next_backup_at
        zone = (zones or {}).get(report.host)
        table.add_row(
            plain(report.host),
            status_text(report.status, t),
            plain(top.message if top else ""),
            t.datetime(nxt, zone) if nxt else t.text("table.none"),
        )
    return table


def windows_table(windows: list[Window], t: Catalog, caption: str | None = None) -> Table:
    """Each server's next backup and scheduled check, soonest first, in the server's zone, and
    where each time comes from (or why it is not known)."""
    table = Table(
        title=t.text("windows.title"), title_justify="left", caption=caption, caption_justify="left"
    )
    table.add_column(t.text("windows.server"), overflow="fold")
    table.add_column(t.text("windows.next_backup"), no_wrap=True)
    table.add_column(t.text("windows.check_at"), no_wrap=True)
    table.add_column(t.text("windows.note"), overflow="fold")
    for window in windows:
        if window.next_backup_at is None or window.check_at is None:
            why = window.reason or t.text("windows.unknown_until_checked")
            none = t.text("table.none")
            table.add_row(plain(window.server), t.text("windows.unknown"), none, plain(why))
        else:
            table.add_row(
                plain(window.server),
                t.datetime(window.next_backup_at),
                t.datetime(window.check_at),
                window_source(window, t),
            )
    return table


def window_source(window: Window, t: Catalog) -> str:
    """Where a window's time comes from, in words."""
    if window.source == "config":
        return t.text("windows.from_config")
    if window.reported_at is not None:
        return t.text("windows.from_server", when=t.datetime(window.reported_at))
    return ""
