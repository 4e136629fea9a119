"""The probe: valid PowerShell, ASCII, and shipped in one command that really carries it."""

from __future__ import annotations

import base64

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from checks.collect.probe import (
    BOOTSTRAP_SCRIPT,
    MAX_COMMAND_LINE,
    POWERSHELL,
    PROBE_SCRIPT,
    probe_command,
)

PARSER = Parser(Language(tree_sitter_powershell.language()))


def syntax_errors(script: str) -> list[str]:
    """Every ERROR or missing node tree-sitter-powershell finds, with its position."""
    found: list[str] = []

    def walk(node: Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            found.append(f"{node.type} at line {node.start_point[0] + 1}")
        for child in node.children:
            walk(child)

    walk(PARSER.parse(script.encode("utf-8")).root_node)
    return found


def test_the_probe_parses_without_errors() -> None:
    assert syntax_errors(PROBE_SCRIPT) == []
    assert syntax_errors(BOOTSTRAP_SCRIPT) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda s: s.replace("foreach ($v in $cimVolumes) {", "foreach ($v in $cimVolumes) ", 1),
        lambda s: s.replace("[ordered]@{", "[ordered]@(", 1),
        lambda s: s + "\nif ($x -eq { \n",
    ],
)
def test_the_syntax_check_catches_a_broken_copy(breakage: object) -> None:
    assert callable(breakage)
    assert syntax_errors(breakage(PROBE_SCRIPT)) != []


def test_the_probe_is_ascii_so_any_code_page_carries_it() -> None:
    assert PROBE_SCRIPT.isascii()


def test_the_probe_is_too_long_for_a_command_line_so_it_travels_over_stdin() -> None:
    command = probe_command()
    assert len(command.command_line) <= MAX_COMMAND_LINE
    prefix, encoded = command.command_line.rsplit(" ", 1)
    assert prefix == POWERSHELL
    assert base64.b64decode(encoded).decode("utf-16-le") == BOOTSTRAP_SCRIPT
    assert command.stdin is not None
    assert command.stdin.decode("utf-8") == PROBE_SCRIPT


def test_a_short_script_runs_directly() -> None:
    command = probe_command("Get-Date")
    assert command.stdin is None
    assert (
        base64.b64decode(command.command_line.rsplit(" ", 1)[1]).decode("utf-16-le") == "Get-Date"
    )


# Every command the probe may run: cmdlets that only read, and the pipeline helpers.
READ_ONLY = {
    "ConvertTo-Json", "ForEach-Object", "Get-CimInstance", "Get-Date", "Get-Module",
    "Get-WBBackupTarget", "Get-WBBareMetalRecovery", "Get-WBJob", "Get-WBPolicy",
    "Get-WBSchedule", "Get-WBSummary", "Get-WBSystemState", "Get-WBVolume", "Get-WinEvent",
    "Import-Module", "New-Object", "Select-Object",
}  # fmt: skip


def commands_and_functions(script: str) -> tuple[set[str], set[str]]:
    """The command names the script calls, and the functions it defines itself."""
    commands: set[str] = set()
    functions: set[str] = set()

    def walk(node: Node) -> None:
        if node.type == "command_name":
            commands.add((node.text or b"").decode())
        if node.type == "function_statement":
            functions.update(
                (c.text or b"").decode() for c in node.children if c.type == "function_name"
            )
        for child in node.children:
            walk(child)

    walk(PARSER.parse(script.encode("utf-8")).root_node)
    return commands, functions


def test_the_probe_runs_only_commands_that_read() -> None:
    commands, functions = commands_and_functions(PROBE_SCRIPT)
    assert commands - functions == READ_ONLY


def test_the_read_only_check_sees_a_command_that_writes() -> None:
    commands, functions = commands_and_functions(PROBE_SCRIPT + "\nStart-WBBackup -Policy $p\n")
    assert commands - functions - READ_ONLY == {"Start-WBBackup"}


@pytest.mark.parametrize(
    "quirk",
    [
        "-Depth 8",  # ConvertTo-Json's default depth of 2 silently truncates
        "-InputObject $snapshot",  # piping would unwrap one-element arrays
        "$s.Volume.DeviceID",  # Win32_ShadowStorage references flattened to ids
        "$s.DiffVolume.DeviceID",
        "TrimEnd('\\') + '\\'",  # Get-WBVolume's MountPoint lacks the trailing backslash
        "yyyy-MM-ddTHH:mm:sszzz",  # ISO dates, not \\/Date(...)\\/
        "Get-WBVolume -CriticalVolumes",  # bare-metal recovery adds the critical volumes
        "Get-WBJob -Previous 1",  # the last finished job, read back from the backup events
        "-MaxEvents 20",  # the event fallback is bounded
        "NoMatchingEventsFound",  # an empty backup channel is an answer, not an error
        "$object.PSObject.Properties[$name]",  # a property a Windows version lacks reads null
        "Substring(0, [Math]::Min(8,",  # event times have 9 fractional digits, .NET parses 7
    ],
)
def test_the_probe_handles_powershell_5_1_quirks(quirk: str) -> None:
    assert quirk in PROBE_SCRIPT
