"""The commands in fix tips, each built from a validated name and quoted for its shell.

cmd only ever receives drive letters and volume GUID paths (and share paths of plain ASCII);
every other host value goes into PowerShell as a single-quoted literal. A value that fits
neither gets no command: the tip's text still says what to do.
"""

from __future__ import annotations

from checks.names import is_drive_letter, is_mount_folder
from checks.quoting import Unquotable, cmd_quoted_path, cmd_word, powershell_literal
from checks.report import Command
from checks.snapshot import Volume
from checks.units import MB

KEEP_BACKUP_VERSIONS = 7


def cmd(text: str, *, elevated: bool = True) -> Command:
    """A cmd command (text built from constants and cmd-safe values only)."""
    return Command(shell="cmd", text=text, elevated=elevated)


def ps(text: str, *, elevated: bool = True) -> Command:
    """A PowerShell command (host values inside powershell_literal only)."""
    return Command(shell="powershell", text=text, elevated=elevated)


def volume_spec(volume: Volume) -> str | None:
    """How vssadmin names a volume: its letter, else its GUID path; None when it has neither."""
    # A mount folder may hold & or %, so vssadmin gets the volume's GUID path instead.
    return cmd_word(volume.letter) or cmd_word(volume.id)


def largest_folders(volume: Volume) -> list[Command]:
    """The ten largest folders at the root of a lettered volume or mount folder."""
    if volume.letter and is_drive_letter(volume.letter):
        root = volume.letter + "\\"
    elif is_mount_folder(volume.name):
        root = volume.name.rstrip("\\") + "\\"
    else:
        return []
    try:
        literal = powershell_literal(root)
    except Unquotable:
        return []  # only a snapshot built without validation gets here
    return [
        ps(
            f"Get-ChildItem -LiteralPath {literal} -Directory -Force "
            "-ErrorAction SilentlyContinue | "
            "ForEach-Object { [pscustomobject]@{ Folder = $_.FullName; GB = [math]::Round(("
            "Get-ChildItem -LiteralPath $_.FullName -Recurse -File -Force -ErrorAction "
            "SilentlyContinue | Measure-Object Length -Sum).Sum / 1GB, 2) } } | "
            "Sort-Object GB -Descending | Select-Object -First 10"
        )
    ]


def delete_oldest_shadows(owner: str) -> list[Command]:
    """List, then delete the oldest shadow copy of a volume (named by volume_spec)."""
    return [
        cmd(f"vssadmin list shadows /for={owner}"),
        cmd(f"vssadmin delete shadows /for={owner} /oldest"),
    ]


def move_diff_area(guest: str, on: str, to: str, *, has_row: bool) -> list[Command]:
    """Delete a volume's shadow copies and keep the new ones on another volume."""
    commands = [cmd(f"vssadmin delete shadows /for={guest} /all /quiet")]
    if has_row:
        commands.append(cmd(f"vssadmin delete shadowstorage /for={guest} /on={on} /quiet"))
    commands.append(cmd(f"vssadmin add shadowstorage /for={guest} /on={to}"))
    return commands


def resize_shadow_storage(for_: str, on: str, suggested_bytes: int) -> list[Command]:
    """Raise a shadow-storage limit to a size, or remove it."""
    base = f"vssadmin resize shadowstorage /for={for_} /on={on}"
    return [cmd(f"{base} /maxsize={suggested_bytes // MB}MB"), cmd(f"{base} /maxsize=UNBOUNDED")]


def share_space(path: str) -> list[Command]:
    """Show a share's free space: `dir` in cmd for plain names, else the same from PowerShell."""
    quoted = cmd_quoted_path(path)
    if quoted is not None:
        return [cmd(f"dir {quoted}", elevated=False)]
    try:
        literal = powershell_literal(path)
    except Unquotable:
        return []  # only a snapshot built without validation gets here
    return [
        ps(
            "(New-Object -ComObject Scripting.FileSystemObject).GetFolder("
            f"{literal}).Drive | Format-List",
            elevated=False,
        )
    ]


def is_listed_by_dir(path: str) -> bool:
    """Whether share_space gives `dir` (whose last line shows the free space)."""
    return cmd_quoted_path(path) is not None


LAST_BACKUP_FAILED = (
    ps(
        "Get-WBJob -Previous 1 | Format-List JobType, StartTime, EndTime, HResult, ErrorDescription"
    ),
    ps(
        "Get-WinEvent -LogName Microsoft-Windows-Backup -MaxEvents 20 | "
        "Where-Object LevelDisplayName -ne 'Information' | "
        "Format-List TimeCreated, Id, Message"
    ),
)
PRUNE_BACKUPS = (
    ps("Get-WBBackupSet | Sort-Object BackupTime | Format-Table BackupTime, VersionId"),
    ps(f"Remove-WBBackupSet -KeepVersions {KEEP_BACKUP_VERSIONS} -Force"),
)
COMPONENT_STORE = (
    cmd("Dism.exe /Online /Cleanup-Image /AnalyzeComponentStore"),
    cmd("Dism.exe /Online /Cleanup-Image /StartComponentCleanup"),
)
WINRE_INFO = (cmd("reagentc /info"),)
