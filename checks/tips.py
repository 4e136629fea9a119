"""Fix tips: for each finding, what to do, with the numbers and commands an admin can paste."""

from __future__ import annotations

from collections.abc import Callable

from checks.i18n import Catalog
from checks.report import Command, Role, Tip
from checks.rules import Assessment, Code, Issue, minimum_free_bytes
from checks.snapshot import Volume
from checks.units import GB

# File systems that can hold a shadow-copy diff area.
_DIFF_AREA_FILESYSTEMS = {"NTFS", "REFS"}
KEEP_BACKUP_VERSIONS = 7


def volume_spec(volume: Volume) -> str:
    """How vssadmin and friends name a volume: its letter, mount folder, or GUID path."""
    return volume.letter or volume.name


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


def _volume_of(issue: Issue, a: Assessment) -> Volume:
    if issue.volume_id is None:
        raise ValueError(f"{issue.code} findings always name a volume")
    return a.snapshot.volume(issue.volume_id)


def _cmd(text: str, *, elevated: bool = True) -> Command:
    return Command(shell="cmd", text=text, elevated=elevated)


def _ps(text: str, *, elevated: bool = True) -> Command:
    return Command(shell="powershell", text=text, elevated=elevated)


def tips_for(issue: Issue, assessment: Assessment, catalog: Catalog) -> list[Tip]:
    """Every tip that helps with one finding, most direct first."""
    builder = _BUILDERS.get(issue.code)
    return builder(issue, assessment, catalog) if builder else []


def _vss_min_free(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    volume = _volume_of(issue, a)
    verdict = a.verdict(volume.id)
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
            "tip.free_space_hosted",
            vol=name,
            guests=name_list([a.snapshot.volume(g) for g in guests], t),
        )
    commands = [_ps(_largest_folders(volume), elevated=True)] if volume.letter else []
    tips = [Tip(code=code, text=text, commands=commands)]
    tips += _shadow_copy_tips(volume, a, t, code)
    tips += _move_diff_area_tips(issue, volume, a, t, code)
    if Role.DESTINATION in verdict.roles:
        tips.append(_prune_backups_tip(name, t, code))
    if _is_windows_volume(volume, a):
        tips.append(_component_store_tip(name, t, code))
    if _is_system_partition(volume):
        tips.append(
            Tip(
                code=code,
                text=t.text("tip.system_partition", vol=name),
                commands=[
                    _cmd("reagentc /info"),
                ],
            )
        )
    return tips


def _recommended_free(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    volume = _volume_of(issue, a)
    name = display_name(volume)
    code = issue.code.value
    text = t.text(
        "tip.recommended_free",
        vol=name,
        more=t.size(issue.shortfall_bytes or 0, round_up=True),
        recommended=t.size(issue.required_bytes or 0),
        free=t.size(volume.free_bytes),
    )
    commands = [_ps(_largest_folders(volume), elevated=True)] if volume.letter else []
    tips = [Tip(code=code, text=text, commands=commands)]
    tips += _shadow_copy_tips(volume, a, t, code)
    if Role.DESTINATION in a.verdict(volume.id).roles:
        tips.append(_prune_backups_tip(name, t, code))
    if _is_windows_volume(volume, a):
        tips.append(_component_store_tip(name, t, code))
    return tips


def _shadow_storage_limit(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    volume = _volume_of(issue, a)
    on = a.snapshot.volume(issue.diff_area_for[0])
    suggested = max(issue.required_bytes or 0, GB)
    text = t.text(
        "tip.raise_limit",
        vol=display_name(volume),
        on=display_name(on),
        limit=t.size(issue.limit_bytes or 0),
        required=t.size(issue.required_bytes or 0),
        suggested=t.size(suggested),
    )
    base = f"vssadmin resize shadowstorage /for={volume_spec(volume)} /on={volume_spec(on)}"
    return [
        Tip(
            code=issue.code.value,
            text=text,
            commands=[
                _cmd(f"{base} /maxsize={suggested // (1024 * 1024)}MB"),
                _cmd(f"{base} /maxsize=UNBOUNDED"),
            ],
        )
    ]


def _network_target_full(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    text = t.text(
        "tip.network_target_full",
        path=issue.detail,
        shortfall=t.size(issue.shortfall_bytes or 0, round_up=True),
        free=t.size(issue.free_bytes or 0),
        required=t.size(issue.required_bytes or 0),
    )
    return [
        Tip(
            code=issue.code.value,
            text=text,
            commands=[_cmd(f'dir "{issue.detail}"', elevated=False)],
        )
    ]


def _network_space_unknown(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    text = t.text("tip.network_space_unknown", path=issue.detail)
    return [
        Tip(
            code=issue.code.value,
            text=text,
            commands=[_cmd(f'dir "{issue.detail}"', elevated=False)],
        )
    ]


def _last_backup_failed(issue: Issue, a: Assessment, t: Catalog) -> list[Tip]:
    return [
        Tip(
            code=issue.code.value,
            text=t.text("tip.last_backup_failed"),
            commands=[
                _ps(
                    "Get-WBJob -Previous 1 | Format-List JobType, StartTime, EndTime, "
                    "HResult, ErrorDescription"
                ),
                _ps(
                    "Get-WinEvent -LogName Microsoft-Windows-Backup -MaxEvents 20 | "
                    "Where-Object LevelDisplayName -ne 'Information' | "
                    "Format-List TimeCreated, Id, Message"
                ),
            ],
        )
    ]


def _shadow_copy_tips(volume: Volume, a: Assessment, t: Catalog, code: str) -> list[Tip]:
    """Delete the oldest shadow copies whose diff area takes room on this volume."""
    tips = []
    for row in a.snapshot.shadow_storage:
        if row.on_volume_id != volume.id or row.used_bytes == 0:
            continue
        owner = a.snapshot.volume(row.for_volume_id)
        if Role.DESTINATION in a.verdict(owner.id).roles:
            continue  # on a backup target these are the backup versions: see the prune tip
        spec = volume_spec(owner)
        tips.append(
            Tip(
                code=code,
                text=t.text(
                    "tip.delete_oldest_shadows",
                    owner=display_name(owner),
                    vol=display_name(volume),
                    used=t.size(row.used_bytes),
                ),
                commands=[
                    _cmd(f"vssadmin list shadows /for={spec}"),
                    _cmd(f"vssadmin delete shadows /for={spec} /oldest"),
                ],
            )
        )
    return tips


def _move_diff_area_tips(
    issue: Issue, volume: Volume, a: Assessment, t: Catalog, code: str
) -> list[Tip]:
    """Keep a guest's shadow copies on a roomier volume instead."""
    tips = []
    for guest_id in issue.diff_area_for:
        guest = a.snapshot.volume(guest_id)
        need = minimum_free_bytes(guest.capacity_bytes)
        roomier = _roomiest_other_volume(a, exclude={volume.id, guest_id}, need=need)
        if roomier is None:
            continue
        has_row = any(
            r.for_volume_id == guest_id and r.on_volume_id == volume.id
            for r in a.snapshot.shadow_storage
        )
        spec, on = volume_spec(guest), volume_spec(volume)
        commands = [_cmd(f"vssadmin delete shadows /for={spec} /all /quiet")]
        if has_row:
            commands.append(_cmd(f"vssadmin delete shadowstorage /for={spec} /on={on} /quiet"))
        commands.append(_cmd(f"vssadmin add shadowstorage /for={spec} /on={volume_spec(roomier)}"))
        tips.append(
            Tip(
                code=code,
                text=t.text(
                    "tip.move_diff_area",
                    guest=display_name(guest),
                    target=display_name(roomier),
                    target_free=t.size(roomier.free_bytes),
                ),
                commands=commands,
            )
        )
    return tips


def _roomiest_other_volume(a: Assessment, exclude: set[str], need: int) -> Volume | None:
    """The lettered NTFS/ReFS volume with the most room to spare, outside the backup target."""
    candidates = []
    for verdict in a.volumes:
        v = verdict.volume
        if v.id in exclude or not v.letter or Role.DESTINATION in verdict.roles:
            continue
        if (v.filesystem or "").upper() not in _DIFF_AREA_FILESYSTEMS:
            continue
        already = verdict.required_free_bytes or 0
        # Leave the recommended 1 GB on top, so the move does not just push the problem along.
        if v.free_bytes - already - need >= GB:
            candidates.append(v)
    return max(candidates, key=lambda v: v.free_bytes, default=None)


def _prune_backups_tip(name: str, t: Catalog, code: str) -> Tip:
    return Tip(
        code=code,
        text=t.text("tip.prune_backups", vol=name, keep=KEEP_BACKUP_VERSIONS),
        commands=[
            _ps("Get-WBBackupSet | Sort-Object BackupTime | Format-Table BackupTime, VersionId"),
            _ps(f"Remove-WBBackupSet -KeepVersions {KEEP_BACKUP_VERSIONS} -Force"),
        ],
    )


def _component_store_tip(name: str, t: Catalog, code: str) -> Tip:
    return Tip(
        code=code,
        text=t.text("tip.component_store", vol=name),
        commands=[
            _cmd("Dism.exe /Online /Cleanup-Image /AnalyzeComponentStore"),
            _cmd("Dism.exe /Online /Cleanup-Image /StartComponentCleanup"),
        ],
    )


def _is_windows_volume(volume: Volume, a: Assessment) -> bool:
    if any(v.windows for v in a.snapshot.volumes):
        return volume.windows
    # Older probes and hand-written snapshots lack the flag; C: is where Windows almost always is.
    return (volume.letter or "").upper() == "C:"


def _is_system_partition(volume: Volume) -> bool:
    """System Reserved, EFI or recovery: small, hidden, and filled by Windows itself."""
    return volume.letter is None and (volume.boot or volume.capacity_bytes <= GB)


def _largest_folders(volume: Volume) -> str:
    root = (volume.letter or volume.name).rstrip("\\") + "\\"
    return (
        f"Get-ChildItem -LiteralPath '{root}' -Directory -Force -ErrorAction SilentlyContinue | "
        "ForEach-Object { [pscustomobject]@{ Folder = $_.FullName; GB = [math]::Round(("
        "Get-ChildItem -LiteralPath $_.FullName -Recurse -File -Force -ErrorAction "
        "SilentlyContinue | Measure-Object Length -Sum).Sum / 1GB, 2) } } | "
        "Sort-Object GB -Descending | Select-Object -First 10"
    )


_BUILDERS: dict[Code, Callable[[Issue, Assessment, Catalog], list[Tip]]] = {
    Code.VSS_MIN_FREE: _vss_min_free,
    Code.RECOMMENDED_FREE: _recommended_free,
    Code.SHADOW_STORAGE_LIMIT: _shadow_storage_limit,
    Code.NETWORK_TARGET_FULL: _network_target_full,
    Code.NETWORK_TARGET_SPACE_UNKNOWN: _network_space_unknown,
    Code.LAST_BACKUP_FAILED: _last_backup_failed,
}
