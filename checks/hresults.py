"""The Windows Server Backup and VSS HRESULTs people meet most, and where their words live.

Pure: a code in, catalog keys out. The words (what it means, what to do) are in the message
catalogs under `hresult.<0xHEX>` and `hresult_fix.<0xHEX>`; each code's source is below and in
tests/fixtures/README.md. A code not in the table is shown as its hex and "no description known".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from checks.i18n import Catalog

_VSS_PROVIDER = (
    "https://learn.microsoft.com/windows/win32/api/vsprov/"
    "nf-vsprov-ivssprovidercreatesnapshotset-endpreparesnapshots"
)
_KB = "https://learn.microsoft.com/troubleshoot/windows-server/backup-and-storage/"
_WIN32_ERRORS = "https://learn.microsoft.com/windows/win32/debug/system-error-codes--0-499-"
_VSS_UNEXPECTED = (
    "https://learn.microsoft.com/windows/win32/api/vsbackup/"
    "nf-vsbackup-ivssbackupcomponentsex2-unexposesnapshot"
)
_VSS_WRITER = (
    "https://learn.microsoft.com/windows/win32/api/vswriter/"
    "nf-vswriter-cvsswriterex2-setwriterfailureex"
)


@dataclass(frozen=True)
class KnownCode:
    """A code the catalogs explain: its symbolic name where Windows defines one, and a source."""

    symbol: str | None
    source: str
    verified: bool = True  # False: no Microsoft text was found; the words say only what is sure


KNOWN: Mapping[int, KnownCode] = MappingProxyType(
    {
        0x80780119: KnownCode(
            None,
            "Windows Server Backup's own message; what to do: "
            "https://learn.microsoft.com/azure/backup/backup-azure-mars-troubleshoot"
            "#increase-shadow-copy-storage",
        ),
        0x8004231F: KnownCode("VSS_E_INSUFFICIENT_STORAGE", _VSS_PROVIDER),
        0x80042306: KnownCode("VSS_E_PROVIDER_VETO", _VSS_PROVIDER),
        0x80042302: KnownCode("VSS_E_UNEXPECTED", _VSS_UNEXPECTED),
        0x800423F4: KnownCode(
            "VSS_E_WRITERERROR_NONRETRYABLE",
            _VSS_WRITER + " and KB 2615182: " + _KB + "backup-fails-vss-writer",
        ),
        0x807800C5: KnownCode(
            None,
            "Windows Server Backup's own message; a server's Get-WBSummary pairing it with "
            "0x800701B1 (a device that does not exist): tests/fixtures/README.md",
        ),
        0x81000019: KnownCode(
            None,
            "Windows Backup's own message; System Reserved as the usual cause: "
            "https://www.borncity.com/blog/2011/11/22/windows-7-backup-error-081000019/",
            verified=False,
        ),
        0x80780081: KnownCode(None, "facility 0x78 (Windows Server Backup) only", verified=False),
        0x8078004F: KnownCode(None, "facility 0x78 (Windows Server Backup) only", verified=False),
        0x8078015B: KnownCode(None, "KB 4512842, BMR backup fails in DPM or Azure Backup Server"),
        0x8078010D: KnownCode(None, _KB + "system-state-backup-fails-invalid-imagepath"),
        0x80780049: KnownCode(None, "KB 4053355, System State backup fails (Azure Backup)"),
        0x80070070: KnownCode("ERROR_DISK_FULL", _WIN32_ERRORS),
        0x80070005: KnownCode("E_ACCESSDENIED", _WIN32_ERRORS),
    }
)


def hresult_hex(code: int) -> str:
    """The code as Windows writes it: 0x80780119."""
    return f"0x{code & 0xFFFFFFFF:08X}"


def meaning_key(code: int) -> str | None:
    """The catalog key of what the code means, or None for a code not in the table."""
    return f"hresult.{hresult_hex(code)}" if code & 0xFFFFFFFF in KNOWN else None


def fix_key(code: int) -> str | None:
    """The catalog key of what to do about the code, or None for a code not in the table."""
    return f"hresult_fix.{hresult_hex(code)}" if code & 0xFFFFFFFF in KNOWN else None


@dataclass(frozen=True)
class HResultText:
    """A code put into words: its hex, what it means, and what to do (None when unknown)."""

    code: str
    meaning: str
    fix: str | None


def describe(code: int, catalog: Catalog) -> HResultText:
    """The code in the catalog's language; an unknown code gets "no description known"."""
    meaning, fix = meaning_key(code), fix_key(code)
    return HResultText(
        code=hresult_hex(code),
        meaning=catalog.text(meaning if meaning else "hresult.unknown"),
        fix=catalog.text(fix) if fix else None,
    )


def explained(*codes: int | None) -> int | None:
    """The first non-zero code the table explains, else the first non-zero code at all:
    a job's HRESULT is often generic while its detailed HRESULT says what happened."""
    present = [c & 0xFFFFFFFF for c in codes if c]
    return next((c for c in present if c in KNOWN), present[0] if present else None)
