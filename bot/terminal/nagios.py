"""Nagios/Icinga plugin output: a status line with performance data, then the details."""

from __future__ import annotations

from bot.display import visible
from checks.i18n import Catalog
from checks.report import Report, Status

# The plugin API reads everything after the first `|` of a line as performance data and has no
# escape for it (https://nagios-plugins.org/doc/guidelines.html#AEN200), so host text gets a
# look-alike that cannot end the text part; newlines are already escaped by `visible`.
PIPE_STANDIN = "¦"


def text(value: str) -> str:
    """Host text for plugin output: one line, no control characters, no `|`."""
    return visible(value).replace("|", PIPE_STANDIN)


def render_nagios(report: Report, t: Catalog) -> str:
    """Plugin output: `STATUS - summary | perfdata`, then one line per finding."""
    worst = next((f for f in report.findings if f.severity is report.status), None)
    lines = [_with_perfdata(status_line(report, t), perfdata(report))]
    lines += [f"{f.severity.name}: {text(f.message)}" for f in report.findings if f is not worst]
    return "\n".join(lines)


def status_line(report: Report, t: Catalog) -> str:
    """`STATUS - summary` without performance data: the host's verdict on one line."""
    worst = next((f for f in report.findings if f.severity is report.status), None)
    host = text(report.host)
    if report.status is Status.OK or worst is None:
        summary = t.text("report.verdict_ok", host=host, status=report.status.name)
    else:
        summary = f"{host}: {text(worst.message)}"
    return f"{report.status.name} - {summary}"


def perfdata(report: Report, prefix: str = "") -> str:
    """Free bytes of each volume in the backup, with 'below' thresholds in Nagios range syntax."""
    items = []
    for v in report.volumes:
        if v.status is Status.INFO:
            continue
        label = perf_label(f"{prefix}{v.letter or v.label or v.name} free")
        warn = f"{v.recommended_free_bytes}:" if v.recommended_free_bytes else ""
        crit = f"{v.required_free_bytes}:" if v.required_free_bytes else ""
        items.append(f"{label}={v.free_bytes}B;{warn};{crit};0;{v.capacity_bytes}")
    return " ".join(items)


def perf_label(name: str) -> str:
    """A performance data label: in single quotes, a quote inside doubled, no `=` or `|`."""
    # The guidelines allow any character in a label but `=` and `'` (which doubling escapes);
    # `|` would end the performance data.
    inner = text(name).replace("=", "_").replace("'", "''")
    return f"'{inner}'"


def render_nagios_fleet(reports: list[Report], t: Catalog) -> str:
    """Several hosts as one plugin output: the worst host first, one line per host after."""
    ordered = sorted(reports, key=lambda r: -r.status.rank)
    status = ordered[0].status if ordered else Status.OK
    counts = ", ".join(
        f"{sum(r.status is s for r in reports)} {s.value}"
        for s in (Status.CRITICAL, Status.UNKNOWN, Status.WARNING, Status.OK)
        if any(r.status is s for r in reports)
    )
    # Long output lines carry no `|`: after the first one, every line is read as performance
    # data. So all hosts' data goes on the status line, each label named after its host.
    perf = " ".join(p for r in ordered if (p := perfdata(r, prefix=f"{r.host} ")))
    first = f"{status.name} - {t.text('summary.title', count=len(reports))}: {counts}"
    lines = [_with_perfdata(first, perf)]
    lines += [status_line(r, t) for r in ordered]
    return "\n".join(lines)


def _with_perfdata(line: str, perf: str) -> str:
    return f"{line} | {perf}" if perf else line
