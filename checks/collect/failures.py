"""Turns what pywinrm, requests and spnego raise into one CollectError sentence per kind."""

from __future__ import annotations

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
from checks.inventory import Server

_CLIXML_NS = "{http://schemas.microsoft.com/powershell/2004/04}"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def explain(error: BaseException, server: Server, username: str) -> CollectError:
    """The sentence for a failure while talking to server; never includes a secret."""
    where = f"{server.address}:{server.port}"
    chain = list(_chain(error))
    if isinstance(error, InvalidCredentialsError | CredSSPAuthenticationError) or any(
        isinstance(e, SpnegoError) for e in chain
    ):
        return CollectError(
            f"authentication failed for {username} on {server.address} ({server.transport}): "
            "wrong password, or the account may not log on over WinRM",
            permanent=True,
        )
    if isinstance(error, WSManFaultError):
        code = error.wsman_fault_code if error.wsman_fault_code is not None else error.code
        return CollectError(f"WinRM fault {code} from {server.address}: {error.reason}")
    if isinstance(error, WinRMOperationTimeoutError):
        return CollectError(
            f"timed out after {server.deadline_s:g} s: {server.address} did not finish the probe"
        )
    if isinstance(error, WinRMTransportError):
        detail = " ".join(error.response_text.split())[:200]
        return CollectError(
            f"WinRM on {where} answered HTTP {error.code}" + (f": {detail}" if detail else "")
        )
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or str(cause)
            return CollectError(
                f"the TLS certificate of {server.address} is invalid: {reason}", permanent=True
            )
    if isinstance(error, requests.exceptions.SSLError):
        return CollectError(f"TLS with {where} failed: {_first_line(error)}", permanent=True)
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return CollectError(f"timed out after {server.connect_timeout_s:g} s connecting to {where}")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return CollectError(
            f"timed out after {server.read_timeout_s:g} s waiting for {server.address} to answer"
        )
    if any(isinstance(e, socket.gaierror) or "NameResolution" in type(e).__name__ for e in chain):
        return CollectError(f"the name {server.address} does not resolve", permanent=True)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return CollectError(f"connection refused by {where} (is WinRM listening on {server.port}?)")
    if any(isinstance(e, RemoteDisconnected | ConnectionResetError) for e in chain) or isinstance(
        error, requests.exceptions.ChunkedEncodingError
    ):
        return CollectError(f"{where} dropped the connection before answering")
    if isinstance(error, ParseError):
        return CollectError(f"{where} answered with something that is not WS-Management XML")
    if isinstance(error, requests.exceptions.RequestException):
        return CollectError(f"cannot talk to {where}: {_first_line(error)}")
    if isinstance(error, WinRMError):
        return CollectError(f"WinRM error from {server.address}: {_first_line(error)}")
    return CollectError(f"unexpected {type(error).__name__} talking to {where}")


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
