"""What a simulated host's powershell.exe prints: the probe's snapshot, or PowerShell errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from checks.collect.probe import BOOTSTRAP_SCRIPT, PROBE_SCRIPT

from .fleet_profiles import ExitCode, Garbage, HostProfile, PowerShellError, Truncated
from .wsman_soap import CommandRequest, CommandResult

__all__ = [
    "CLIXML_HEADER",
    "clixml_error",
    "is_probe",
    "not_recognized",
    "probe_result",
    "thrown_error_lines",
]

CLIXML_HEADER = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
)
# Where an error thrown by the probe points: the bootstrap's call of the probe's script block.
_CALL_AT = max(BOOTSTRAP_SCRIPT.rfind("& "), 0)
_BOOTSTRAP_POSITION = [
    f"At line:1 char:{_CALL_AT + 1}",
    f"+ {BOOTSTRAP_SCRIPT}",
    "+ " + " " * _CALL_AT + "~" * (len(BOOTSTRAP_SCRIPT) - _CALL_AT),
]
# PowerShell's serializer writes control characters as _xHHHH_, and escapes an underscore that
# would otherwise read as the start of such an escape.
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile(r"[\x00-\x1f]")


def is_probe(request: CommandRequest) -> bool:
    """Whether the command is the probe, run directly or through the stdin bootstrap."""
    if request.script == PROBE_SCRIPT:
        return True
    if request.script != BOOTSTRAP_SCRIPT:
        return False
    try:
        return request.stdin.decode("utf-8") == PROBE_SCRIPT
    except UnicodeDecodeError:
        return False


def _clixml_string(text: str) -> str:
    text = escape(_ESCAPE_LIKE.sub("_x005F_", text))
    return _CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)


def clixml_error(lines: Sequence[str]) -> str:
    """stderr of ``powershell.exe -EncodedCommand`` for an error record of these lines."""
    body = "".join('<S S="Error">' + _clixml_string(line + "\r\n") + "</S>" for line in lines)
    return f"{CLIXML_HEADER}{body}</Objs>"


def thrown_error_lines(message: str) -> list[str]:
    """The lines PowerShell prints when the bootstrapped probe does ``throw $message``."""
    return [
        message,
        *_BOOTSTRAP_POSITION,
        f"    + CategoryInfo          : OperationStopped: ({message}:String) [], RuntimeException",
        f"    + FullyQualifiedErrorId : {message}",
        " ",
    ]


def _text_run(request: CommandRequest) -> str:
    if request.script == BOOTSTRAP_SCRIPT:
        return request.stdin.decode("utf-8", errors="replace")
    return request.script if request.script is not None else request.command_line


def not_recognized(request: CommandRequest) -> CommandResult:
    """What powershell.exe prints for a command it does not know (exit code 1)."""
    line = (_text_run(request).strip().splitlines() or [""])[0]
    term = (line.split() or [""])[0]
    lines = [
        f"{term} : The term '{term}' is not recognized as the name of a cmdlet, function, "
        "script file, or operable program. Check the spelling of the name, or if a path was "
        "included, verify that the path is correct and try again.",
        "At line:1 char:1",
        f"+ {line}",
        "+ " + "~" * len(term),
        f"    + CategoryInfo          : ObjectNotFound: ({term}:String) [], "
        "CommandNotFoundException",
        "    + FullyQualifiedErrorId : CommandNotFoundException",
        " ",
    ]
    return CommandResult(stdout=b"", stderr=clixml_error(lines), exit_code=1)


def probe_result(profile: HostProfile) -> CommandResult:
    """What the probe prints on this host: raw UTF-8 snapshot JSON unless a fault says else.

    ``str`` output is encoded with the shell's code page by the endpoint; ``bytes`` is sent as is.
    """
    fault = profile.fault
    if isinstance(fault, Truncated):
        return CommandResult(stdout=profile.snapshot[: fault.bytes])
    if isinstance(fault, PowerShellError):
        stderr = clixml_error(thrown_error_lines(fault.message))
        return CommandResult(stdout=b"", stderr=stderr, exit_code=1)
    if isinstance(fault, ExitCode):
        return CommandResult(stdout=b"", stderr=fault.stderr, exit_code=fault.code)
    if isinstance(fault, Garbage):
        return CommandResult(stdout=fault.text)
    return CommandResult(stdout=profile.snapshot)
