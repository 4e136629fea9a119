"""What Windows can really name: drive letters, volume GUID paths and UNC paths.

The snapshot refuses anything else, and the tips put only these forms into commands.
"""

from __future__ import annotations

import re

DRIVE_LETTER = re.compile(r"[A-Za-z]:")
DRIVE_ROOT = re.compile(r"[A-Za-z]:\\")
# Win32_Volume.DeviceID is \\?\Volume{GUID}\. Hand-written snapshots and tests use short names
# between the braces ({D}, {sr}); letters, digits and hyphens are just as inert in any shell.
VOLUME_GUID_PATH = re.compile(r"\\\\\?\\Volume\{[0-9A-Za-z-]{1,64}\}\\")
# The local collector keys volumes by the device psutil reports: C:\ on Windows, /dev/sda1 or a
# ZFS dataset elsewhere. No shell metacharacter fits in these either.
_DEVICE = re.compile(r"[A-Za-z]:\\|[0-9A-Za-z/._+:@-]{1,255}")
# C0 and C1 controls (ESC, CR, LF, NUL…) and the Unicode line and paragraph separators: none is
# in a real volume name or path, and each can end a line of a pasted command or of a report.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters Windows refuses in a server or share name, and in a folder name further down.
# https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file#naming-conventions
_NOT_IN_SHARE = set('"/\\[]:|<>+=;,?*')
_NOT_IN_FOLDER = set('"/\\:|<>?*')


def is_drive_letter(value: str) -> bool:
    """A drive letter such as "D:"."""
    return DRIVE_LETTER.fullmatch(value) is not None


def is_volume_guid_path(value: str) -> bool:
    """A volume GUID path such as \\\\?\\Volume{6f1c…}\\."""
    return VOLUME_GUID_PATH.fullmatch(value) is not None


def is_volume_id(value: str) -> bool:
    """A volume GUID path, or the device psutil names a local volume by."""
    return is_volume_guid_path(value) or _DEVICE.fullmatch(value) is not None


def has_control(value: str) -> bool:
    """Whether the text holds a control character or a line separator."""
    return _CONTROL.search(value) is not None


def is_mount_folder(value: str) -> bool:
    """A folder on a lettered volume, such as C:\\Mount\\Logs\\ (not the root itself)."""
    return DRIVE_ROOT.match(value) is not None and len(value.rstrip("\\")) > 2


def unc_problem(path: str) -> str | None:
    """Why the text is not a UNC path \\\\server\\share[\\folder…], or None when it is one."""
    if not path.startswith("\\\\") or has_control(path):
        return "is not a UNC path such as \\\\server\\share"
    parts = path[2:].split("\\")
    if parts[-1] == "" and len(parts) > 2:
        parts.pop()  # one trailing backslash is how Windows often writes a folder
    if len(parts) < 2 or any(p == "" for p in parts):
        return "is not a UNC path such as \\\\server\\share"
    server, share, *folders = parts
    if any(c in _NOT_IN_SHARE or c.isspace() for c in server):
        return "has a server name Windows does not allow"
    if any(c in _NOT_IN_SHARE for c in share):
        return "has a share name Windows does not allow"
    if any(c in _NOT_IN_FOLDER for folder in folders for c in folder):
        return "has a folder name Windows does not allow"
    return None
