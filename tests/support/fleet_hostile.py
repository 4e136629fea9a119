"""What hostile simulated hosts answer: compressed bombs, endless and huge streams, trickles.

Each builder returns a :class:`~.wsman_http.RawReply` that the HTTP layer writes as it is
produced, so a host can send gigabytes without this process holding them.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from functools import cache

from .fleet_profiles import EndlessStream, Fault, GzipBomb, HugeOutput, Trickle
from .wsman_http import RawReply

__all__ = ["hostile_receive", "hostile_size"]

_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
_HEAD = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="{shell}">'
    '<s:Body><rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="{command}">'
)
_RUNNING = (
    '</rsp:Stream><rsp:CommandState CommandId="{command}" State="{shell}/CommandState/Running"/>'
)
_DONE = (
    '</rsp:Stream><rsp:CommandState CommandId="{command}" State="{shell}/CommandState/Done">'
    "<rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>"
)
_TAIL = "</rsp:ReceiveResponse></s:Body></s:Envelope>"
_PIECE = 48 * 1024  # stdout bytes per write: a multiple of 3, so its base64 has no padding
_MIB = 1024 * 1024
_GZIP_MEMBER_MIB = 16


def hostile_receive(
    fault: Fault | None, command: str, sent: int, snapshot: bytes
) -> RawReply | None:
    """The raw answer to a Receive for a hostile fault (None: answer normally).

    ``sent`` is how many stdout bytes earlier Receives of this command carried.
    """
    if isinstance(fault, GzipBomb):
        return _gzip_bomb(fault.unpacked_mib)
    if isinstance(fault, HugeOutput):
        size = hostile_size(fault, sent)
        return _receive_reply(command, size, done=sent + size >= fault.total_mib * _MIB)
    if isinstance(fault, EndlessStream):
        return _endless(command)
    if isinstance(fault, Trickle):
        return _trickle(command, snapshot, fault.interval_s)
    return None


def hostile_size(fault: Fault | None, sent: int) -> int:
    """The stdout bytes the next Receive carries for a ``huge_output`` host."""
    if not isinstance(fault, HugeOutput):
        return 0
    return min(fault.reply_kib * 1024, fault.total_mib * _MIB - sent)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"HTTP/1.1 {status} OK",
        "Server: Microsoft-HTTPAPI/2.0",
        *map(": ".join, headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


_SOAP = {"Content-Type": "application/soap+xml;charset=UTF-8"}


@cache
def _gzip_member() -> bytes:
    return gzip.compress(bytes(_GZIP_MEMBER_MIB * _MIB), compresslevel=9)


def _gzip_bomb(unpacked_mib: int) -> RawReply:
    # Concatenated gzip members are one valid gzip stream (RFC 1952 section 2.2).
    body = _gzip_member() * (unpacked_mib // _GZIP_MEMBER_MIB)
    headers = {**_SOAP, "Content-Encoding": "gzip", "Content-Length": str(len(body))}
    return RawReply(200, [_head(200, headers), body])


def _receive_reply(command: str, size: int, *, done: bool) -> RawReply:
    head = _HEAD.format(shell=_SHELL, command=command).encode()
    tail = ((_DONE if done else _RUNNING).format(shell=_SHELL, command=command) + _TAIL).encode()
    encoded = 4 * (size // 3) + (4 if size % 3 else 0)
    length = len(head) + encoded + len(tail)
    headers = {**_SOAP, "Content-Length": str(length)}

    def parts() -> Iterator[bytes]:
        yield _head(200, headers) + head
        piece = base64.b64encode(b"A" * _PIECE)
        left = size
        while left >= _PIECE:
            yield piece
            left -= _PIECE
        yield base64.b64encode(b"A" * left) + tail

    return RawReply(200, parts(), keep_alive=True)


def _endless(command: str) -> RawReply:
    headers = {**_SOAP, "Transfer-Encoding": "chunked"}

    def parts() -> Iterator[bytes]:
        head = _HEAD.format(shell=_SHELL, command=command).encode()
        yield _head(200, headers) + _chunk(head)
        piece = _chunk(base64.b64encode(b"A" * _PIECE))
        while True:
            yield piece

    return RawReply(200, parts())


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _trickle(command: str, snapshot: bytes, interval_s: float) -> RawReply:
    head = _HEAD.format(shell=_SHELL, command=command).encode()
    tail = (_DONE.format(shell=_SHELL, command=command) + _TAIL).encode()
    body = head + base64.b64encode(snapshot) + tail
    reply = _head(200, {**_SOAP, "Content-Length": str(len(body))}) + body

    def parts() -> Iterator[bytes | float]:
        for byte in reply:
            yield bytes([byte])
            yield interval_s

    return RawReply(200, parts())
