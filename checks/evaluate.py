"""The one entry point every caller uses: a Snapshot (or a failure) in, a Report out."""

from __future__ import annotations

from datetime import datetime

from checks.i18n import Catalog
from checks.report import Finding, Report, Status, Tip, VolumeReport
from checks.rules import Assessment, Code, Issue, assess
from checks.snapshot import Snapshot
from checks.tips import TipWriter, display_name, name_list


def evaluate(snapshot: Snapshot, now: datetime, catalog: Catalog) -> Report:
    """Apply the rules to a snapshot and put the verdicts and tips into the catalog's language."""
    assessment = assess(snapshot)
    write_tips = TipWriter(assessment, catalog)
    findings = [_finding(issue, assessment, catalog, write_tips) for issue in assessment.issues]
    # Each volume's tips, gathered in one pass over the findings (in their order).
    tips_of: dict[str, list[Tip]] = {}
    for f in findings:
        if f.volume_id is not None:
            tips_of.setdefault(f.volume_id, []).extend(f.tips)
    volumes = [
        VolumeReport(
            id=v.volume.id,
            name=v.volume.name,
            letter=v.volume.letter,
            label=v.volume.label,
            roles=list(v.roles),
            status=v.status,
            capacity_bytes=v.volume.capacity_bytes,
            free_bytes=v.volume.free_bytes,
            required_free_bytes=v.required_free_bytes,
            recommended_free_bytes=v.recommended_free_bytes,
            shortfall_bytes=v.shortfall_bytes,
            tips=tips_of.get(v.volume.id, []),
        )
        for v in assessment.volumes
    ]
    return Report(
        host=snapshot.host,
        status=assessment.status,
        checked_at=now,
        next_backup_at=snapshot.backup.next_backup_at if snapshot.backup else None,
        volumes=volumes,
        findings=findings,
    )


def unknown_report(host: str, reason: str, now: datetime, catalog: Catalog) -> Report:
    """Rule 8: a host that could not be checked is unknown, with the reason."""
    finding = Finding(
        severity=Status.UNKNOWN,
        code=Code.CHECK_FAILED.value,
        volume_id=None,
        message=catalog.text("finding.CHECK_FAILED", host=host, reason=reason),
    )
    return Report(
        host=host,
        status=Status.UNKNOWN,
        checked_at=now,
        next_backup_at=None,
        volumes=[],
        findings=[finding],
    )


def _finding(issue: Issue, a: Assessment, t: Catalog, write_tips: TipWriter) -> Finding:
    params: dict[str, object] = {}
    if issue.volume_id is not None:
        params["vol"] = display_name(a.snapshot.volume(issue.volume_id))
    for key in ("required", "free", "limit"):
        value = getattr(issue, f"{key}_bytes")
        if value is not None:
            params[key] = t.size(value)
    if issue.shortfall_bytes is not None:
        params["shortfall"] = t.size(issue.shortfall_bytes, round_up=True)
    if issue.code is Code.SHADOW_STORAGE_LIMIT:
        params["on"] = display_name(a.snapshot.volume(issue.diff_area_for[0]))
    guests = [g for g in issue.diff_area_for if g != issue.volume_id]
    key = f"finding.{issue.code.value}"
    if issue.code is Code.VSS_MIN_FREE and guests:
        key += "_hosted"
        params["guests"] = name_list([a.snapshot.volume(g) for g in guests], t)
    if issue.hresult is not None:
        params["code"] = f"0x{issue.hresult:08X}"
        meaning_key = f"hresult.0x{issue.hresult:08X}"
        params["meaning"] = t.text(meaning_key if t.has(meaning_key) else "hresult.unknown")
    params["detail"] = issue.detail or ""
    params["path"] = issue.detail or ""
    return Finding(
        severity=issue.severity,
        code=issue.code.value,
        volume_id=issue.volume_id,
        message=t.text(key, **params),
        required_bytes=issue.required_bytes,
        free_bytes=issue.free_bytes,
        shortfall_bytes=issue.shortfall_bytes,
        tips=write_tips(issue),
    )
