"""Host profiles of the simulated fleet: what each fake Windows host prints, and how it fails.

A profile file ``tests/fixtures/hosts/<name>.json`` looks like::

    {
      "description": "optional note for humans",
      "snapshot": "../snapshots/seed-incident.json",
      "latency_ms": 0,
      "fault": {"kind": "operation_timeouts", "count": 2}
    }

``snapshot`` is a path relative to the profile file (its bytes are printed verbatim) or an inline
JSON object (printed compactly, as the probe's ``ConvertTo-Json -Compress`` does). ``fault`` is
null or one of the tagged objects below, told apart by ``kind``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

__all__ = [
    "POWERSHELL_BANNER",
    "Drop",
    "EndlessStream",
    "ExitCode",
    "Fault",
    "Garbage",
    "GzipBomb",
    "Hang",
    "HostProfile",
    "HttpStatus",
    "HugeOutput",
    "Malformed",
    "OperationTimeouts",
    "PowerShellError",
    "Refused",
    "SoapFault",
    "Trickle",
    "Truncated",
    "load_profile",
    "load_profiles",
]

POWERSHELL_BANNER = (
    "Windows PowerShell\r\nCopyright (C) Microsoft Corporation. All rights reserved.\r\n\r\n"
    "Try the new cross-platform PowerShell https://aka.ms/pscore6\r\n\r\n"
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Refused(_Model):
    """``{"kind": "refused"}``: nothing listens on the host's address, so connecting fails with
    "connection refused" (the address is reserved by a bound, non-listening socket)."""

    kind: Literal["refused"] = "refused"


class HttpStatus(_Model):
    """``{"kind": "http_status", "status": 503, "body": "..."}``: a bare HTTP error.

    401 is what Windows answers a wrong password: every authentication attempt (NTLM
    handshake or Basic) is rejected with a 401 and fresh challenges, whatever the credentials;
    ``body`` is not used. Any other status answers every request once it is authenticated
    (after the NTLM handshake, so pywinrm fails on its first, empty, encrypted POST), with the
    UTF-8 ``body`` as ``text/html``.
    """

    kind: Literal["http_status"] = "http_status"
    status: int = Field(ge=400, le=599)
    body: str = ""


class SoapFault(_Model):
    """``{"kind": "wsman_fault", "code": 5, "message": "Access is denied."}``: Create works,
    then the Command request is answered with a SOAP fault (HTTP 500) whose WSManFault detail
    carries ``code`` and ``message``, like 2150858770 "The client cannot connect..."."""

    kind: Literal["wsman_fault"] = "wsman_fault"
    code: int = Field(ge=0, lt=2**32)
    message: str


class OperationTimeouts(_Model):
    """``{"kind": "operation_timeouts", "count": 2}``: the first ``count`` Receive requests of
    each command are answered with the OperationTimeout fault (2150858793, which pywinrm raises
    as WinRMOperationTimeoutError) as Windows does while a command is still running; later ones
    return the output. Answered at once, not after the request's OperationTimeout. Per command,
    so every check of the host sees the same, whichever test came first."""

    kind: Literal["operation_timeouts"] = "operation_timeouts"
    count: int = Field(ge=1)


class Truncated(_Model):
    """``{"kind": "truncated", "bytes": 100}``: stdout is the snapshot cut after ``bytes``
    bytes (possibly mid UTF-8 sequence), stderr empty, exit code 0."""

    kind: Literal["truncated"] = "truncated"
    bytes: int = Field(ge=0)


class PowerShellError(_Model):
    """``{"kind": "powershell_error", "message": "..."}``: the probe throws ``message``. No
    stdout, exit code 1, stderr is the CLIXML error record powershell.exe -EncodedCommand
    writes, encoded in the shell's code page (non-ASCII survives only with 65001)."""

    kind: Literal["powershell_error"] = "powershell_error"
    message: str


class ExitCode(_Model):
    """``{"kind": "exit_code", "code": 3, "stderr": "..."}``: no stdout, exit ``code``, stderr
    is ``stderr`` encoded in the shell's code page."""

    kind: Literal["exit_code"] = "exit_code"
    code: int
    stderr: str = ""


class Garbage(_Model):
    """``{"kind": "garbage", "text": "..."}``: stdout is non-JSON ``text`` (default: the
    Windows PowerShell banner) in the shell's code page, stderr empty, exit code 0."""

    kind: Literal["garbage"] = "garbage"
    text: str = POWERSHELL_BANNER


class Drop(_Model):
    """``{"kind": "drop"}``: every Receive request (so the first one) makes the server close
    the TCP connection without an answer; clients see a connection error."""

    kind: Literal["drop"] = "drop"


class Hang(_Model):
    """``{"kind": "hang"}``: connections are accepted and requests read, but nothing is ever
    answered (until the fleet stops); clients hit their read timeout."""

    kind: Literal["hang"] = "hang"


class GzipBomb(_Model):
    """``{"kind": "gzip_bomb", "unpacked_mib": 1024}``: Receive is answered with a body sent
    with ``Content-Encoding: gzip`` that unpacks to ``unpacked_mib`` MiB of zeros (about a
    thousandth of that on the wire), whatever the request asked for."""

    kind: Literal["gzip_bomb"] = "gzip_bomb"
    unpacked_mib: int = Field(default=1024, ge=16)


class HugeOutput(_Model):
    """``{"kind": "huge_output", "total_mib": 200, "reply_kib": 102400}``: the probe prints
    ``total_mib`` MiB of stdout, each Receive reply carrying up to ``reply_kib`` KiB of it
    (streamed by the host, never held whole). Exit code 0 after the last."""

    kind: Literal["huge_output"] = "huge_output"
    total_mib: int = Field(ge=1)
    reply_kib: int = Field(ge=1)


class EndlessStream(_Model):
    """``{"kind": "endless_stream"}``: Receive is answered with a chunked body that never
    ends: an envelope whose stdout stream grows as fast as the client reads."""

    kind: Literal["endless_stream"] = "endless_stream"


class Trickle(_Model):
    """``{"kind": "trickle", "interval_s": 1.0}``: Receive is answered with the snapshot, one
    byte every ``interval_s`` seconds from the status line on."""

    kind: Literal["trickle"] = "trickle"
    interval_s: float = Field(gt=0)


class Malformed(_Model):
    """``{"kind": "malformed", "reply": "..."}``: one odd WS-Management answer. ``no_shell_id``:
    the Create reply names no ShellId; ``exit_code_not_integer``: the last Receive says
    ``<ExitCode>zero</ExitCode>``; ``http_500_not_utf8``: the first authenticated request is
    answered HTTP 500 with a body that is not UTF-8; ``delete_relates_to``: the Delete reply
    relates to another message (the snapshot itself arrives intact before it); ``redirect``: every
    authenticated request is answered 307 to another host's WS-Management URL."""

    kind: Literal["malformed"] = "malformed"
    reply: Literal[
        "no_shell_id", "exit_code_not_integer", "http_500_not_utf8", "delete_relates_to", "redirect"
    ]


Fault = Annotated[
    Refused
    | HttpStatus
    | SoapFault
    | OperationTimeouts
    | Truncated
    | PowerShellError
    | ExitCode
    | Garbage
    | Drop
    | Hang
    | GzipBomb
    | HugeOutput
    | EndlessStream
    | Trickle
    | Malformed,
    Field(discriminator="kind"),
]


class HostProfile(_Model):
    """One simulated host, with its snapshot resolved to the exact bytes the probe prints."""

    snapshot: Annotated[bytes, Strict()]
    latency_ms: int = Field(default=0, ge=0)  # slept before answering every HTTP request
    fault: Fault | None = None
    description: str = ""


class _ProfileDocument(_Model):
    snapshot: str | dict[str, Any]
    latency_ms: int = Field(default=0, ge=0)
    fault: Fault | None = None
    description: str = ""


def load_profile(path: str | Path) -> HostProfile:
    """Read one profile file; raises ValueError naming the file if it is invalid."""
    path = Path(path)
    try:
        document = _ProfileDocument.model_validate_json(path.read_bytes())
        if isinstance(document.snapshot, str):
            snapshot = (path.parent / document.snapshot).read_bytes()
        else:
            snapshot = json.dumps(
                document.snapshot, ensure_ascii=False, separators=(",", ":")
            ).encode("utf-8")
    except (OSError, ValidationError) as exc:
        raise ValueError(f"invalid host profile {path}: {exc}") from exc
    return HostProfile(
        snapshot=snapshot,
        latency_ms=document.latency_ms,
        fault=document.fault,
        description=document.description,
    )


def load_profiles(directory: str | Path) -> dict[str, HostProfile]:
    """Every ``*.json`` profile in ``directory``, by file stem, in name order."""
    return {path.stem: load_profile(path) for path in sorted(Path(directory).glob("*.json"))}
