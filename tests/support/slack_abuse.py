"""Hostile HTTP clients for HTTP mode: huge bodies, half-sent bodies, raw malformed requests.

Everything here speaks raw sockets, so a request can be as broken as an attacker makes it.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from pathlib import Path

__all__ = [
    "dropped_within",
    "half_sent",
    "huge_body",
    "process_status",
    "read_status",
    "request_head",
]

MIB = 1 << 20


def request_head(
    length: int | None = None, *, chunked: bool = False, extra: dict[str, str] | None = None
) -> bytes:
    """The request line and headers of a POST to /slack/events."""
    headers = {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    elif length is not None:
        headers["Content-Length"] = str(length)
    headers.update(extra or {})
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return ("POST /slack/events HTTP/1.1\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_status(sock: socket.socket, timeout: float = 10.0) -> int:
    """The status code of the response on sock; 0 if the server closed without one."""
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n" not in received:
            data = sock.recv(4096)
            if not data:
                break
            received += data
    if not received.startswith(b"HTTP/1."):
        return 0
    return int(received.split(b" ", 2)[1])


def huge_body(port: int, size: int, *, chunked: bool = False) -> int:
    """POST a body of `size` bytes, declared (Content-Length) or chunked, sending until the
    server answers or hangs up; returns the status (0: no answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request_head(size, chunked=chunked))
        stop = threading.Event()

        def send() -> None:
            piece = b"a" * (64 * 1024)
            framed = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            sent = 0
            # The server may refuse at any point: a reset or a closed pipe ends the sending.
            with contextlib.suppress(OSError):
                while sent < size and not stop.is_set():
                    sock.sendall(framed)
                    sent += len(piece)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            return read_status(sock, timeout=30)
        finally:
            stop.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout=10)


def half_sent(port: int, count: int) -> list[socket.socket]:
    """`count` connections that each send headers and a tenth of the declared body, then wait."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(request_head(1000) + b"x" * 100)
        sockets.append(sock)
    return sockets


def dropped_within(sockets: list[socket.socket], seconds: float) -> int:
    """Wait until the server has hung up on every socket or `seconds` passed; how many it did."""
    # epoll, not select(): the test process may hold file descriptors past 1024.
    with selectors.DefaultSelector() as waiting:
        for sock in sockets:
            waiting.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        dropped = 0
        while dropped < len(sockets) and time.monotonic() < deadline:
            for key, _ in waiting.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data:
                    waiting.unregister(sock)
                    dropped += 1
        return dropped


def process_status(pid: int, field: str) -> int:
    """A number from /proc/PID/status: `VmHWM` (peak RSS, KiB), `VmRSS`, `Threads`…"""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    raise KeyError(field)
