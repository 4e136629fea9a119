"""Nagios/Icinga plugin output: a status line with performance data, then the details."""

from __future__ import annotations

from checks.i18n import Catalog
from checks.report import Report, Status


def render_nagios(report: Report, t: Catalog) -> str:
    """Plugin output: `STATUS - summary | perfdata`, then one line per finding."""
    worst = next((f for f in report.findings if f.severity is report.status), None)
    if report.status is Status.OK or worst is None:
        summary = t.text("report.verdict_ok", host=report.host, status=report.status.name)
    else:
        summary = f"{report.host}: {worst.message}"
    lines = [f"{report.status.name} - {summary} | {perfdata(report)}".rstrip(" |")]
    lines += [f"{f.severity.name}: {f.message}" for f in report.findings if f is not worst]
    return "\n".join(lines)


def perfdata(report: Report) -> str:
    """Free bytes of each volume in the backup, with 'below' thresholds in Nagios range syntax."""
    items = []
    for v in report.volumes:
        if v.status is Status.INFO:
            continue
        label = (v.letter or v.label or v.name).replace("'", "")
        warn = f"{v.recommended_free_bytes}:" if v.recommended_free_bytes else ""
        crit = f"{v.required_free_bytes}:" if v.required_free_bytes else ""
        items.append(f"'{label} free'={v.free_bytes}B;{warn};{crit};0;{v.capacity_bytes}")
    return " ".join(items)


def render_nagios_fleet(reports: list[Report], t: Catalog) -> str:
    """Several hosts as one plugin output: the worst host first, one line per host after."""
    ordered = sorted(reports, key=lambda r: -r.status.rank)
    status = ordered[0].status if ordered else Status.OK
    counts = ", ".join(
        f"{sum(r.status is s for r in reports)} {s.value}"
        for s in (Status.CRITICAL, Status.UNKNOWN, Status.WARNING, Status.OK)
        if any(r.status is s for r in reports)
    )
    lines = [f"{status.name} - {t.text('summary.title', count=len(reports))}: {counts}"]
    lines += [render_nagios(r, t).splitlines()[0] for r in ordered]
    return "\n".join(lines)
