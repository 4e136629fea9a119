"""Fix tips: for each finding, what to do, with the numbers and commands an admin can paste."""

from __future__ import annotations

from collections.abc import Callable

from checks import tip_commands as commands
from checks.hresults import describe
from checks.i18n import Catalog
from checks.report import Role, Tip
from checks.rules import Assessment, Code, Issue, minimum_free_bytes
from checks.snapshot import ShadowStorage, Volume
from checks.tip_commands import KEEP_BACKUP_VERSIONS, volume_spec
from checks.units import GB

__all__ = ["KEEP_BACKUP_VERSIONS", "TipWriter", "display_name", "name_list", "volume_spec"]

# File systems that can hold a shadow-copy diff area.
_DIFF_AREA_FILESYSTEMS = {"NTFS", "REFS"}


def display_name(volume: Volume) -> str:
    """How people name a volume: its letter or mount folder, else its label, else its GUID path."""
    if volume.letter:
        return volume.letter
    if volume.name != volume.id or not volume.label:
        return volume.name
    return volume.label


def name_list(volumes: list[Volume], t: Catalog) -> str:
    """Several volume names, joined as the language lists things."""
    return t.text("list_separator").join(display_name(v) for v in volumes)


class TipWriter:
    """Writes the tips for the findings of one assessment.

    What the tips look up (rows by volume, roomy volumes) is indexed once here, so a finding costs
    only its own volumes, however many the host has.
    """

    def __init__(self, assessment: Assessment, catalog: Catalog) -> None:
        self.a = assessment
        self.t = catalog
        self.rows_on: dict[str, list[ShadowStorage]] = {}
        self.pairs: set[tuple[str, str]] = set()
        for row in assessment.snapshot.shadow_storage:
            self.rows_on.setdefault(row.on_volume_id, []).append(row)
            self.pairs.add((row.for_volume_id, row.on_volume_id))
        self._windows_flagged = any(v.windows for v in assessment.snapshot.volumes)
        self._move_candidates = [
            verdict
            for verdict in assessment.volumes
            if verdict.volume.letter
            and Role.DESTINATION not in verdict.roles
            and (verdict.volume.filesystem or "").upper() in _DIFF_AREA_FILESYSTEMS
        ]
        self._roomy: dict[int, list[Volume]] = {}

    def __call__(self, issue: Issue) -> list[Tip]:
        """Every tip that helps with one finding, most direct first."""
        builder = _BUILDERS.get(issue.code)
        return builder(self, issue) if builder else []

    def volume(self, volume_id: str) -> Volume:
        """The volume with this id."""
        return self.a.snapshot.volume(volume_id)

    def issue_volume(self, issue: Issue) -> Volume:
        """The volume a finding is about."""
        if issue.volume_id is None:
            raise ValueError(f"{issue.code} findings always name a volume")
        return self.volume(issue.volume_id)

    def is_destination(self, volume_id: str) -> bool:
        """Whether the backup writes to this volume."""
        return Role.DESTINATION in self.a.verdict(volume_id).roles

    def is_windows_volume(self, volume: Volume) -> bool:
        """Whether Windows lives on this volume."""
        if self._windows_flagged:
            return volume.windows
        # Older probes and hand-written snapshots lack the flag; Windows is almost always on C:.
        return (volume.letter or "").upper() == "C:"

    def roomiest_other_volume(self, exclude: set[str], need: int) -> Volume | None:
        """The lettered NTFS/ReFS volume with the most room to spare, outside the backup target."""
        ranked = self._roomy.get(need)
        if ranked is None:
            # Leave the recommended 1 GB on top, so the move does not just push the problem along.
            fitting = [
                v.volume
                for v in self._move_candidates
                if v.volume.free_bytes - (v.required_free_bytes or 0) - need >= GB
            ]
            # Stable: among equally roomy volumes the first listed wins, as max() would pick.
            ranked = self._roomy[need] = sorted(fitting, key=lambda v: -v.free_bytes)
        return next((v for v in ranked if v.id not in exclude), None)


def _vss_min_free(w: TipWriter, issue: Issue) -> list[Tip]:
    t = w.t
    volume = w.issue_volume(issue)
    verdict = w.a.verdict(volume.id)
    name = display_name(volume)
    code = issue.code.value
    text = t.text(
        "tip.free_space",
        vol=name,
        shortfall=t.size(issue.shortfall_bytes or 0, round_up=True),
        required=t.size(issue.required_bytes or 0),
        free=t.size(volume.free_bytes),
    )
    recommended = verdict.recommended_free_bytes
    if recommended and recommended > (issue.required_bytes or 0):
        text += t.text("tip.sentence_separator") + t.text(
            "tip.free_space_recommended",
            more=t.size(recommended - volume.free_bytes, round_up=True),
            recommended=t.size(recommended),
        )
    guests = [g for g in issue.diff_area_for if g != volume.id]
    if guests:
        text += t.text("tip.sentence_separator") + t.text(
            "tip.free_space_hosted", vol=name, guests=name_list([w.volume(g) for g in guests], t)
        )
    tips = [Tip(code=code, text=text, commands=commands.largest_folders(volume))]
    tips += _shadow_copy_tips(w, volume, code)
    tips += _move_diff_area_tips(w, issue, volume, code)
    if Role.DESTINATION in verdict.roles:
        tips.append(_prune_backups_tip(name, t, code))
    if w.is_windows_volume(volume):
        tips.append(_component_store_tip(name, t, code))
    if _is_system_partition(volume):
        tips.append(
            Tip(
                code=code,
                text=t.text("tip.system_partition", vol=name),
                commands=list(commands.WINRE_INFO),
            )
        )
    return tips


def _recommended_free(w: TipWriter, issue: Issue) -> list[Tip]:
    t = w.t
    volume = w.issue_volume(issue)
    name = display_name(volume)
    code = issue.code.value
    text = t.text(
        "tip.recommended_free",
        vol=name,
        more=t.size(issue.shortfall_bytes or 0, round_up=True),
        recommended=t.size(issue.required_bytes or 0),
        free=t.size(volume.free_bytes),
    )
    tips = [Tip(code=code, text=text, commands=commands.largest_folders(volume))]
    tips += _shadow_copy_tips(w, volume, code)
    if w.is_destination(volume.id):
        tips.append(_prune_backups_tip(name, t, code))
    if w.is_windows_volume(volume):
        tips.append(_component_store_tip(name, t, code))
    return tips


def _shadow_storage_limit(w: TipWriter, issue: Issue) -> list[Tip]:
    t = w.t
    volume = w.issue_volume(issue)
    on = w.volume(issue.diff_area_for[0])
    suggested = max(issue.required_bytes or 0, GB)
    text = t.text(
        "tip.raise_limit",
        vol=display_name(volume),
        on=display_name(on),
        limit=t.size(issue.limit_bytes or 0),
        required=t.size(issue.required_bytes or 0),
        suggested=t.size(suggested),
    )
    for_, on_spec = volume_spec(volume), volume_spec(on)
    resize = commands.resize_shadow_storage(for_, on_spec, suggested) if for_ and on_spec else []
    return [Tip(code=issue.code.value, text=text, commands=resize)]


def _network_target_full(w: TipWriter, issue: Issue) -> list[Tip]:
    t = w.t
    text = t.text(
        "tip.network_target_full",
        path=issue.detail,
        shortfall=t.size(issue.shortfall_bytes or 0, round_up=True),
        free=t.size(issue.free_bytes or 0),
        required=t.size(issue.required_bytes or 0),
    )
    path = issue.detail or ""
    return [Tip(code=issue.code.value, text=text, commands=commands.share_space(path))]


def _network_space_unknown(w: TipWriter, issue: Issue) -> list[Tip]:
    path = issue.detail or ""
    # `dir` ends with the free space; the PowerShell form shows it as FreeSpace.
    key = (
        "tip.network_space_unknown"
        if commands.is_listed_by_dir(path)
        else "tip.network_space_unknown_ps"
    )
    return [
        Tip(
            code=issue.code.value,
            text=w.t.text(key, path=issue.detail),
            commands=commands.share_space(path),
        )
    ]


def _last_backup_failed(w: TipWriter, issue: Issue) -> list[Tip]:
    code = issue.code.value
    # What to do about this HRESULT comes first, from the table of checks/hresults.py.
    fix = describe(issue.hresult, w.t).fix if issue.hresult is not None else None
    first = [Tip(code=code, text=fix)] if fix else []
    look = w.t.text("tip.last_backup_failed")
    return [*first, Tip(code=code, text=look, commands=list(commands.LAST_BACKUP_FAILED))]


def _shadow_copy_tips(w: TipWriter, volume: Volume, code: str) -> list[Tip]:
    """Delete the oldest shadow copies whose diff area takes room on this volume."""
    tips = []
    for row in w.rows_on.get(volume.id, ()):
        if row.used_bytes == 0:
            continue
        owner = w.volume(row.for_volume_id)
        if w.is_destination(owner.id):
            continue  # on a backup target these are the backup versions: see the prune tip
        spec = volume_spec(owner)
        if spec is None:
            continue
        text = w.t.text(
            "tip.delete_oldest_shadows",
            owner=display_name(owner),
            vol=display_name(volume),
            used=w.t.size(row.used_bytes),
        )
        tips.append(Tip(code=code, text=text, commands=commands.delete_oldest_shadows(spec)))
    return tips


def _move_diff_area_tips(w: TipWriter, issue: Issue, volume: Volume, code: str) -> list[Tip]:
    """Keep a guest's shadow copies on a roomier volume instead."""
    tips = []
    for guest_id in issue.diff_area_for:
        guest = w.volume(guest_id)
        need = minimum_free_bytes(guest.capacity_bytes)
        roomier = w.roomiest_other_volume(exclude={volume.id, guest_id}, need=need)
        if roomier is None:
            continue
        spec, on, to = volume_spec(guest), volume_spec(volume), volume_spec(roomier)
        if spec is None or on is None or to is None:
            continue
        has_row = (guest_id, volume.id) in w.pairs
        text = w.t.text(
            "tip.move_diff_area",
            guest=display_name(guest),
            target=display_name(roomier),
            target_free=w.t.size(roomier.free_bytes),
        )
        moves = commands.move_diff_area(spec, on, to, has_row=has_row)
        tips.append(Tip(code=code, text=text, commands=moves))
    return tips


def _prune_backups_tip(name: str, t: Catalog, code: str) -> Tip:
    return Tip(
        code=code,
        text=t.text("tip.prune_backups", vol=name, keep=KEEP_BACKUP_VERSIONS),
        commands=list(commands.PRUNE_BACKUPS),
    )


def _component_store_tip(name: str, t: Catalog, code: str) -> Tip:
    return Tip(
        code=code,
        text=t.text("tip.component_store", vol=name),
        commands=list(commands.COMPONENT_STORE),
    )


def _is_system_partition(volume: Volume) -> bool:
    """System Reserved, EFI or recovery: small, hidden, and filled by Windows itself."""
    return volume.letter is None and (volume.boot or volume.capacity_bytes <= GB)


_BUILDERS: dict[Code, Callable[[TipWriter, Issue], list[Tip]]] = {
    Code.VSS_MIN_FREE: _vss_min_free,
    Code.RECOMMENDED_FREE: _recommended_free,
    Code.SHADOW_STORAGE_LIMIT: _shadow_storage_limit,
    Code.NETWORK_TARGET_FULL: _network_target_full,
    Code.NETWORK_TARGET_SPACE_UNKNOWN: _network_space_unknown,
    Code.LAST_BACKUP_FAILED: _last_backup_failed,
}
