"""The PowerShell probe and the one command line that runs it on a Windows host."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

PROBE_SCRIPT = Path(__file__).with_name("probe.ps1").read_text(encoding="ascii")

# Reads the probe from stdin and runs it: the probe is too long for a command line, which cmd.exe
# caps at 8,191 characters. Ansible's WinRM connection ships its wrapper the same way.
BOOTSTRAP_SCRIPT = "$probe = $input | Out-String; & ([scriptblock]::Create($probe))"

POWERSHELL = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand"
# cmd.exe's limit, less room for the shell's own quoting.
MAX_COMMAND_LINE = 8000


@dataclass(frozen=True)
class ProbeCommand:
    """A command line, and what to feed its stdin (None: nothing)."""

    command_line: str
    stdin: bytes | None


def encode_command(script: str) -> str:
    """powershell.exe's -EncodedCommand form: base64 of the UTF-16-LE script."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def probe_command(script: str = PROBE_SCRIPT) -> ProbeCommand:
    """Run the script directly when it fits on a command line, else through the stdin bootstrap."""
    direct = f"{POWERSHELL} {encode_command(script)}"
    if len(direct) <= MAX_COMMAND_LINE:
        return ProbeCommand(direct, None)
    return ProbeCommand(f"{POWERSHELL} {encode_command(BOOTSTRAP_SCRIPT)}", script.encode("utf-8"))
