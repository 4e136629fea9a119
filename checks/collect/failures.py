"""Turns what pywinrm, requests and spnego raise into one CollectError sentence per kind."""

from __future__ import annotations

import binascii
import re
import socket
import ssl
from collections.abc import Iterator
from http.client import RemoteDisconnected
from xml.etree.ElementTree import ParseError

import requests
from defusedxml import ElementTree
from requests_credssp.exceptions import AuthenticationException as CredSSPAuthenticationError
from spnego.exceptions import SpnegoError
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from checks.collect.errors import CollectError
from checks.collect.exchange import (
    CompressedReply,
    DeadlineReached,
    MalformedReply,
    Redirected,
    TooMuchOutput,
)
from checks.inventory import Server

_CLIXML_NS = "{http://schemas.microsoft.com/powershell/2004/04}"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def explain(error: BaseException, server: Server, username: str) -> CollectError:
    """The error for a failure while talking to server; never includes a secret."""
    where = f"{server.address}:{server.port}"
    refused = _refused(error, server, where)
    if refused is not None:
        return refused
    chain = list(_chain(error))
    if isinstance(error, InvalidCredentialsError | CredSSPAuthenticationError) or any(
        isinstance(e, SpnegoError) for e in chain
    ):
        return CollectError(
            "auth_failed",
            permanent=True,
            user=username,
            address=server.address,
            transport=server.transport,
        )
    if isinstance(error, WSManFaultError):
        code = error.wsman_fault_code if error.wsman_fault_code is not None else error.code
        return CollectError("wsman_fault", code=code, address=server.address, text=error.reason)
    if isinstance(error, WinRMOperationTimeoutError):
        return CollectError(
            "probe_timeout", seconds=f"{server.deadline_s:g}", address=server.address
        )
    if isinstance(error, WinRMTransportError):
        detail = " ".join(error.response_text.split())[:200]
        key = "http_status_detail" if detail else "http_status"
        return CollectError(key, where=where, status=error.code, detail=detail)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or str(cause)
            return CollectError(
                "tls_certificate", permanent=True, address=server.address, reason=reason
            )
    if isinstance(error, requests.exceptions.SSLError):
        return CollectError("tls_failed", permanent=True, where=where, detail=_first_line(error))
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return CollectError("connect_timeout", seconds=f"{server.connect_timeout_s:g}", where=where)
    if isinstance(error, requests.exceptions.ReadTimeout):
        return CollectError(
            "read_timeout", seconds=f"{server.read_timeout_s:g}", address=server.address
        )
    if any(isinstance(e, socket.gaierror) or "NameResolution" in type(e).__name__ for e in chain):
        return CollectError("unresolved", permanent=True, address=server.address)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return CollectError("refused", where=where, port=server.port)
    if any(isinstance(e, RemoteDisconnected | ConnectionResetError) for e in chain) or isinstance(
        error, requests.exceptions.ChunkedEncodingError
    ):
        return CollectError("dropped", where=where)
    if isinstance(error, ParseError):
        return CollectError("not_wsman", where=where)
    if isinstance(error, requests.exceptions.RequestException):
        return CollectError("cannot_talk", where=where, detail=_first_line(error))
    if isinstance(error, WinRMError):
        return CollectError("winrm_error", address=server.address, detail=_first_line(error))
    return CollectError("unexpected", kind=type(error).__name__, where=where)


def _refused(error: BaseException, server: Server, where: str) -> CollectError | None:
    """The sentence for a limit of the exchange the host broke (exchange.py)."""
    if isinstance(error, DeadlineReached):
        return CollectError(
            "probe_timeout", seconds=f"{server.deadline_s:g}", address=server.address
        )
    if isinstance(error, TooMuchOutput):
        key = "exchange_too_large" if error.whole_exchange else "reply_too_large"
        return CollectError(key, address=server.address, limit=_size(error.limit))
    if isinstance(error, CompressedReply):
        return CollectError("compressed_reply", address=server.address, encoding=error.encoding)
    if isinstance(error, Redirected):
        return CollectError("redirected", address=server.address, status=error.status)
    if isinstance(error, MalformedReply):
        return CollectError("bad_reply", where=where, action=error.action, problem=error.problem)
    return None


def odd_reply(action: str, error: BaseException) -> str:
    """What is wrong with a reply pywinrm failed to parse, from what its parsing raised."""
    if isinstance(error, StopIteration):
        missing = {"Create": "ShellId", "Command": "CommandId", "Delete": "RelatesTo"}
        return f"it has no {missing[action]}" if action in missing else "an element is missing"
    if isinstance(error, AssertionError):
        return "it answers another request (RelatesTo does not match)"
    if isinstance(error, binascii.Error):
        return "an output stream is not base64"
    if isinstance(error, ValueError) and "int()" in str(error):
        return "the exit code is not an integer" if action == "Receive" else "a code is not numeric"
    if isinstance(error, KeyError):
        return "an element lacks an attribute"
    return f"it could not be read ({type(error).__name__})"


def _size(size: int) -> str:
    return f"{size / 1048576:g} MiB" if size >= 1048576 else f"{size / 1024:g} KiB"


def powershell_error(stderr: bytes, exit_code: int) -> str:
    """The error PowerShell reported, decoded from CLIXML when it is in that form."""
    text = stderr.decode("utf-8", errors="replace").strip()
    if text.startswith("#< CLIXML"):
        text = _decode_clixml(text.split("\n", 1)[1] if "\n" in text else "")
    # PowerShell follows the message with its position and category; the message is enough.
    message = re.split(r"\r?\n(?:At line:|\+ |発生場所)", text, maxsplit=1)[0]
    message = " ".join(message.split())
    return message or f"powershell.exe exited with code {exit_code} and printed no error"


def _decode_clixml(xml: str) -> str:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return xml
    lines = [
        _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), node.text or "")
        for node in root.iter(f"{_CLIXML_NS}S")
        if node.get("S") == "Error"
    ]
    return "".join(lines)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts and urllib3's `reason`s."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested += [a for a in current.args if isinstance(a, BaseException)]
        stack += [n for n in nested if isinstance(n, BaseException)]


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
