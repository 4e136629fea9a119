"""Host values made inert for the shell a tip's command goes to (PowerShell or cmd)."""

from __future__ import annotations

import re

from checks.names import has_control, is_drive_letter, is_volume_guid_path

# PowerShell ends a single-quoted string at any of these, and reads two in a row as one:
# CharExtensions.IsSingleQuote in System.Management.Automation (Language/CharTraits.cs).
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_PS_QUOTE = re.compile(f"[{PS_SINGLE_QUOTES}]")
# What may stand inside "…" in a cmd line: ASCII without & | < > ^ % " ! ( ). ASCII only, because
# a program that reads its arguments in the ANSI code page maps look-alikes such as U+FF02 onto
# '"' ("best fit"), and a console on another code page may show other bytes.
_CMD_QUOTABLE = re.compile(r"[A-Za-z0-9 $._\\:-]+")


class Unquotable(ValueError):
    """A value that cannot be put into this shell's command safely."""


def powershell_literal(value: str) -> str:
    """The value as a PowerShell single-quoted string: every kind of single quote doubled."""
    if has_control(value):
        # A pasted CR or LF ends the line at the prompt, whatever the quoting.
        raise Unquotable("a control character cannot be pasted into a PowerShell prompt")
    return "'" + _PS_QUOTE.sub(lambda quote: quote.group() * 2, value) + "'"


def cmd_word(value: str | None) -> str | None:
    """A drive letter or volume GUID path as it stands in a cmd line; None for anything else."""
    if value and (is_drive_letter(value) or is_volume_guid_path(value)):
        return value
    return None


def cmd_quoted_path(value: str) -> str | None:
    """The path in double quotes for cmd when it holds nothing cmd acts on, else None.

    A trailing backslash is refused too: programs that parse their own command line read \\" as
    an escaped quote.
    """
    if _CMD_QUOTABLE.fullmatch(value) is None or value.endswith("\\"):
        return None
    return f'"{value}"'
