"""The VSS free-space rules: Snapshot in, language-neutral verdicts out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from checks.hresults import explained
from checks.report import Role, Status, worst
from checks.snapshot import Snapshot, Volume
from checks.units import GB, MB

SMALL_VOLUME_MAX_BYTES = 500 * MB
SMALL_VOLUME_MIN_FREE = 50 * MB
LARGE_VOLUME_MIN_FREE = 320 * MB
RECOMMENDED_FREE = 1 * GB


class Code(StrEnum):
    """Stable finding codes; scripts match on these, so never rename one."""

    VSS_MIN_FREE = "VSS_MIN_FREE"
    RECOMMENDED_FREE = "RECOMMENDED_FREE"
    SHADOW_STORAGE_LIMIT = "SHADOW_STORAGE_LIMIT"
    NETWORK_TARGET_FULL = "NETWORK_TARGET_FULL"
    NETWORK_TARGET_SPACE_UNKNOWN = "NETWORK_TARGET_SPACE_UNKNOWN"
    LAST_BACKUP_FAILED = "LAST_BACKUP_FAILED"
    NO_BACKUP_POLICY = "NO_BACKUP_POLICY"
    COLLECTION_WARNING = "COLLECTION_WARNING"
    HOST_NAME_DIFFERS = "HOST_NAME_DIFFERS"
    CHECK_FAILED = "CHECK_FAILED"


@dataclass(frozen=True)
class Issue:
    """A finding before it is put into words: the code, the volume and the numbers."""

    code: Code
    severity: Status
    volume_id: str | None = None
    required_bytes: int | None = None
    free_bytes: int | None = None
    shortfall_bytes: int | None = None
    limit_bytes: int | None = None
    # Snapshotted volumes whose diff area lives on volume_id (for VSS_MIN_FREE).
    diff_area_for: tuple[str, ...] = ()
    hresult: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class VolumeVerdict:
    """What the rules demand of one volume, and whether it has it."""

    volume: Volume
    roles: tuple[Role, ...]
    status: Status
    required_free_bytes: int | None
    recommended_free_bytes: int | None

    @property
    def shortfall_bytes(self) -> int | None:
        """max(0, required − free), or None when nothing is required of this volume."""
        if self.required_free_bytes is None:
            return None
        return max(0, self.required_free_bytes - self.volume.free_bytes)


@dataclass(frozen=True)
class Assessment:
    """All verdicts for one snapshot."""

    snapshot: Snapshot
    volumes: tuple[VolumeVerdict, ...]
    issues: tuple[Issue, ...]
    status: Status
    diff_area_of: Mapping[str, str] = field(default_factory=dict)

    def verdict(self, volume_id: str) -> VolumeVerdict:
        """The verdict of the volume with this id."""
        return self._verdicts_by_id[volume_id]

    @cached_property
    def _verdicts_by_id(self) -> Mapping[str, VolumeVerdict]:
        # Built on first use; a frozen dataclass still lets cached_property fill its __dict__.
        return {v.volume.id: v for v in self.volumes}


def minimum_free_bytes(capacity_bytes: int) -> int:
    """Rule 2: what VSS needs free for a snapshot of a volume of this size."""
    if capacity_bytes <= SMALL_VOLUME_MAX_BYTES:
        return SMALL_VOLUME_MIN_FREE
    return LARGE_VOLUME_MIN_FREE


def recommended_free_bytes(capacity_bytes: int) -> int | None:
    """Rule 3: volumes larger than 1 GB should keep 1 GB free; None for smaller ones."""
    return RECOMMENDED_FREE if capacity_bytes > RECOMMENDED_FREE else None


def snapshotted_volume_ids(snapshot: Snapshot) -> list[str]:
    """Rule 1: the backup sources plus the target volume, or every volume with no policy."""
    backup = snapshot.backup
    if backup is None:
        return [v.id for v in snapshot.volumes if v.filesystem]
    wanted = set(backup.sources)
    if backup.target.type in ("volume", "disk") and backup.target.volume_id is not None:
        wanted.add(backup.target.volume_id)
    return [v.id for v in snapshot.volumes if v.id in wanted]


def diff_area_volumes(snapshot: Snapshot) -> dict[str, str]:
    """Each volume's diff-area volume: its shadow-storage `on` volume, else itself."""
    placed: dict[str, str] = {}
    for row in snapshot.shadow_storage:
        placed.setdefault(row.for_volume_id, row.on_volume_id)
    return {v.id: placed.get(v.id, v.id) for v in snapshot.volumes}


def assess(snapshot: Snapshot) -> Assessment:
    """Apply all eight rules to one snapshot."""
    ordered = snapshotted_volume_ids(snapshot)
    # Sets, so that each volume's membership costs O(1) however many volumes the host has.
    snapshotted = set(ordered)
    sources = set(snapshot.backup.sources) if snapshot.backup else set()
    diff_area_of = diff_area_volumes(snapshot)
    issues: list[Issue] = []

    hosted: dict[str, list[str]] = {}
    for vid in ordered:
        hosted.setdefault(diff_area_of[vid], []).append(vid)
    required = {
        host: sum(minimum_free_bytes(snapshot.volume(v).capacity_bytes) for v in guests)
        for host, guests in hosted.items()
    }
    for host_id, need in required.items():
        free = snapshot.volume(host_id).free_bytes
        if free < need:
            issues.append(
                Issue(
                    Code.VSS_MIN_FREE,
                    Status.CRITICAL,
                    host_id,
                    required_bytes=need,
                    free_bytes=free,
                    shortfall_bytes=need - free,
                    diff_area_for=tuple(hosted[host_id]),
                )
            )
    issues += _limit_issues(snapshot, snapshotted)

    limited = {i.volume_id for i in issues if i.code is Code.SHADOW_STORAGE_LIMIT}
    verdicts = []
    for volume in snapshot.volumes:
        verdict = _verdict(
            snapshot,
            volume,
            snapshotted,
            sources,
            hosted,
            required.get(volume.id),
            volume.id in limited,
        )
        verdicts.append(verdict)
        if verdict.status is Status.WARNING:
            recommended = verdict.recommended_free_bytes or 0
            issues.append(
                Issue(
                    Code.RECOMMENDED_FREE,
                    Status.WARNING,
                    volume.id,
                    required_bytes=recommended,
                    free_bytes=volume.free_bytes,
                    shortfall_bytes=recommended - volume.free_bytes,
                )
            )
    issues += _policy_issues(snapshot, snapshotted)
    issues += [Issue(Code.COLLECTION_WARNING, Status.INFO, detail=w) for w in snapshot.warnings]

    order = {v.id: n for n, v in enumerate(snapshot.volumes)}
    issues.sort(key=lambda i: (-i.severity.rank, order.get(i.volume_id or "", len(order)), i.code))
    status = worst([v.status for v in verdicts] + [i.severity for i in issues])
    return Assessment(snapshot, tuple(verdicts), tuple(issues), status, diff_area_of)


def _verdict(
    snapshot: Snapshot,
    volume: Volume,
    snapshotted: AbstractSet[str],
    sources: AbstractSet[str],
    hosted: Mapping[str, list[str]],
    required: int | None,
    limited: bool,
) -> VolumeVerdict:
    backup = snapshot.backup
    roles: list[Role] = []
    if volume.id in snapshotted and (backup is None or volume.id in sources):
        roles.append(Role.SOURCE)
    if backup is not None and backup.target.volume_id == volume.id:
        roles.append(Role.DESTINATION)
    if any(guest != volume.id for guest in hosted.get(volume.id, [])):
        roles.append(Role.DIFF_AREA)

    recommended = recommended_free_bytes(volume.capacity_bytes)
    if volume.id not in snapshotted:
        recommended = None
    if not roles:
        status = Status.INFO
    elif limited or (required is not None and volume.free_bytes < required):
        status = Status.CRITICAL
    elif recommended is not None and volume.free_bytes < recommended:
        status = Status.WARNING
    else:
        status = Status.OK
    return VolumeVerdict(volume, tuple(roles), status, required, recommended)


def _limit_issues(snapshot: Snapshot, snapshotted: AbstractSet[str]) -> list[Issue]:
    """Rule 4: a shadow-storage limit below the volume's minimum."""
    issues = []
    seen: set[str] = set()
    for row in snapshot.shadow_storage:
        if row.for_volume_id not in snapshotted or row.for_volume_id in seen:
            continue
        seen.add(row.for_volume_id)
        need = minimum_free_bytes(snapshot.volume(row.for_volume_id).capacity_bytes)
        if row.max_bytes is not None and row.max_bytes < need:
            issues.append(
                Issue(
                    Code.SHADOW_STORAGE_LIMIT,
                    Status.CRITICAL,
                    row.for_volume_id,
                    required_bytes=need,
                    limit_bytes=row.max_bytes,
                    shortfall_bytes=need - row.max_bytes,
                    diff_area_for=(row.on_volume_id,),
                )
            )
    return issues


def _policy_issues(snapshot: Snapshot, snapshotted: AbstractSet[str]) -> list[Issue]:
    """Rules 1, 5 and 7: no policy, a network target too small, a failed last backup."""
    backup = snapshot.backup
    if backup is None:
        return [Issue(Code.NO_BACKUP_POLICY, Status.INFO)]
    issues = []
    target = backup.target
    if target.type == "network":
        used = sum(
            snapshot.volume(s).capacity_bytes - snapshot.volume(s).free_bytes
            for s in backup.sources
        )
        if target.free_bytes is None:
            issues.append(Issue(Code.NETWORK_TARGET_SPACE_UNKNOWN, Status.INFO, detail=target.path))
        elif target.free_bytes < used:
            issues.append(
                Issue(
                    Code.NETWORK_TARGET_FULL,
                    Status.WARNING,
                    required_bytes=used,
                    free_bytes=target.free_bytes,
                    shortfall_bytes=used - target.free_bytes,
                    detail=target.path,
                )
            )
    if backup.last_result_hresult:
        # The summary's detailed code explains a result code the table does not know.
        summary = snapshot.last_backup.summary if snapshot.last_backup else None
        detailed = None
        if summary is not None and summary.result_hresult == backup.last_result_hresult:
            detailed = summary.detailed_hresult
        code = explained(backup.last_result_hresult, detailed)
        issues.append(Issue(Code.LAST_BACKUP_FAILED, Status.INFO, hresult=code))
    return issues
