"""Renders a Report for the terminal with rich: a volume table, findings with tips, a verdict."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from bot.display import visible
from checks.i18n import Catalog
from checks.report import Report, Status, VolumeReport
from checks.windows import Window

STATUS_STYLE = {
    Status.OK: "bold green",
    Status.WARNING: "bold yellow",
    Status.CRITICAL: "bold red",
    Status.UNKNOWN: "bold magenta",
    Status.INFO: "dim",
}


def print_report(report: Report, t: Catalog, console: Console) -> None:
    """The report for people; the verdict stays on one line so it can be grepped."""
    console.print(render_body(report, t))
    console.print(verdict_line(report, t), soft_wrap=True)


def render_body(report: Report, t: Catalog) -> RenderableType:
    """Everything above the verdict: the volume table, findings with tips, dates."""
    parts: list[RenderableType] = []
    if report.volumes:
        parts.append(volume_table(report, t))
    parts += _findings(report, t)
    when = (
        t.text("report.next_backup", when=t.datetime(report.next_backup_at))
        if report.next_backup_at
        else t.text("report.no_next_backup")
    )
    checked = t.text("report.checked_at", when=t.datetime(report.checked_at))
    parts.append(Text(when + t.text("tip.sentence_separator") + checked, style="dim"))
    return Group(*parts)


def volume_table(report: Report, t: Catalog) -> Table:
    """One row per volume: name, label, roles, sizes, status and a usage bar."""
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
    for v in report.volumes:
        label = [plain(v.label or "")] if with_labels else []
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
            for command in tip.commands:
                prompt = "PS> " if command.shell == "powershell" else "> "
                cmd = Text(prompt + visible(command.text), style="bold cyan")
                if command.elevated:
                    cmd.append(f"   ({t.text('report.elevated')})", style="dim")
                parts.append(Padding(cmd, (0, 0, 0, 4)))
    return parts


def summary_table(reports: list[Report], t: Catalog) -> Table:
    """One row per host, worst first: status, the worst finding, and the next backup."""
    table = Table(title=t.text("summary.title", count=len(reports)), title_justify="left")
    table.add_column(t.text("summary.host"), overflow="fold")
    table.add_column(t.text("table.status"), no_wrap=True)
    table.add_column(t.text("summary.finding"), overflow="fold")
    table.add_column(t.text("summary.next_backup"))
    for report in sorted(reports, key=lambda r: (-r.status.rank, r.host.casefold())):
        top = next((f for f in report.findings if f.severity is report.status), None)
        table.add_row(
            plain(report.host),
            status_text(report.status, t),
            plain(top.message if top else ""),
            t.datetime(report.next_backup_at) if report.next_backup_at else t.text("table.none"),
        )
    return table


def windows_table(windows: list[Window], t: Catalog) -> Table:
    """Each server's next backup and check time, soonest first."""
    table = Table(title=t.text("windows.title"), title_justify="left")
    for key in ("server", "next_backup", "check_at"):
        table.add_column(t.text(f"windows.{key}"))
    for window in windows:
        if window.next_backup_at is None or window.check_at is None:
            table.add_row(
                plain(window.server), t.text("windows.unknown"), plain(window.reason or "")
            )
        else:
            table.add_row(
                plain(window.server), t.datetime(window.next_backup_at), t.datetime(window.check_at)
            )
    return table
