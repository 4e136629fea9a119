"""The HTTP layer of the fake WS-Management endpoints: logging, failure injection, the handler.

One :class:`WSManRequestHandler` serves one TCP connection (keep-alive, NTLM per connection). It
finds what to answer through a :class:`Site`: the ``endpoint`` that answers SOAP and the
``auth`` settings. :class:`SecureHTTPServer` is a one-endpoint site with its own accept thread
(``WSManServer``); ``fleet.SimulatedFleet`` builds one site per simulated host instead.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import sys
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from .wsman_auth import (
    ENCRYPTED_CONTENT_TYPE,
    AuthConfig,
    ConnectionAuth,
    decrypt,
    encrypt,
    is_encrypted,
)

# An injected answer: status, body, content type and, for a redirect, its Location.
Failure = tuple[int, bytes, str] | tuple[int, bytes, str, str]

__all__ = [
    "Dropped",
    "HttpControls",
    "HttpRecord",
    "RawReply",
    "SecureHTTPServer",
    "Site",
    "WSManRequestHandler",
]


class Dropped(Exception):
    """Close the connection without answering (the server is stopping, or a host 'dies')."""


class RawReply(Exception):
    """Answer with raw bytes instead of an envelope (hostile hosts).

    ``parts`` are written as they come, status line and headers included; a float is a pause
    in seconds (cut short by the server stopping). Nothing is encrypted. The connection is
    closed after it unless ``keep_alive`` (the reply has a Content-Length).
    """

    def __init__(
        self, status: int, parts: Iterable[bytes | float], *, keep_alive: bool = False
    ) -> None:
        super().__init__(status)
        self.status = status
        self.parts = parts
        self.keep_alive = keep_alive


@dataclass(frozen=True)
class HttpRecord:
    """One HTTP exchange, authentication round trips included."""

    method: str
    path: str
    status: int
    auth_scheme: str | None
    content_type: str


class HttpControls:
    """HTTP-level logging and failure injection; subclasses answer SOAP in ``process``.

    ``errors`` and ``stopping`` may be shared by several endpoints served by one server.
    """

    def __init__(
        self,
        *,
        errors: list[BaseException] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        # Unexpected server-side exceptions; tests assert that this stays empty.
        self.errors: list[BaseException] = [] if errors is None else errors
        self.stopping = threading.Event() if stopping is None else stopping
        self.latency = 0.0  # seconds to wait before answering each HTTP request
        self._http_lock = threading.Lock()
        self._http: list[HttpRecord] = []
        self._received = 0
        self._failures: deque[tuple[int, bytes, str]] = deque()
        self._hang = threading.Event()

    @property
    def http_requests(self) -> list[HttpRecord]:
        """Snapshot of every answered HTTP exchange, auth handshakes included."""
        with self._http_lock:
            return list(self._http)

    @property
    def http_requests_received(self) -> int:
        """Every HTTP request read so far, answered or not (``hang``, dropped connections)."""
        with self._http_lock:
            return self._received

    @property
    def hang(self) -> bool:
        """While True, requests are read but never answered (until cleared or stop())."""
        return self._hang.is_set()

    @hang.setter
    def hang(self, value: bool) -> None:
        (self._hang.set if value else self._hang.clear)()

    def fail_next_http(
        self, status: int, body: bytes = b"", content_type: str = "text/plain"
    ) -> None:
        """Answer the next authenticated request with this raw response (UTF-8 ``body``)."""
        with self._http_lock:
            self._failures.append((status, body, content_type))

    def hold(self) -> bool:
        """Called once per request once it is read: count it, wait ``latency``, block while
        ``hang`` is set. True means the request must go unanswered."""
        with self._http_lock:
            self._received += 1
        if self.latency and self.stopping.wait(self.latency):
            return True
        if not self._hang.is_set():
            return False
        while self._hang.is_set() and not self.stopping.wait(0.05):
            pass
        return True

    def next_failure(self) -> Failure | None:
        with self._http_lock:
            return self._failures.popleft() if self._failures else None

    def record_http(
        self, method: str, path: str, status: int, authorization: str | None, content_type: str
    ) -> None:
        scheme = authorization.split(" ", 1)[0] if authorization else None
        record = HttpRecord(method, path, status, scheme, content_type)
        with self._http_lock:
            self._http.append(record)

    def process(self, xml: bytes, wire: bytes, user: str, content_type: str) -> tuple[int, bytes]:
        """Answer one SOAP request with an HTTP status and response envelope."""
        raise NotImplementedError


class Site(Protocol):
    """What a connection is served by: the endpoint answering it and its auth settings."""

    @property
    def endpoint(self) -> HttpControls: ...

    @property
    def auth(self) -> AuthConfig: ...


class SecureHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP(S) server on 127.0.0.1 that can drop every open connection on stop."""

    daemon_threads = True

    def __init__(
        self, endpoint: HttpControls, auth: AuthConfig, ssl_context: ssl.SSLContext | None
    ) -> None:
        self.endpoint, self.auth, self.ssl_context = endpoint, auth, ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), WSManRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would do a reverse DNS lookup that loopback does not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # Handshake later, in the connection's thread, so a bad client can't stall accept().
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        with self._connections_lock:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on keep-alive connections so they can be joined."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError, ValueError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        # Clients going away (timeouts, rejected certificates) are expected; bugs are kept.
        if exc is not None and not isinstance(exc, OSError) and not self.endpoint.stopping.is_set():
            self.endpoint.errors.append(exc)


class WSManRequestHandler(BaseHTTPRequestHandler):
    """Serves one connection; ``server`` is any :class:`Site` (e.g. a SecureHTTPServer)."""

    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection, not requests
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    @property
    def site(self) -> Site:
        return cast(Site, self.server)

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.auth = ConnectionAuth(self.site.auth)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.site.endpoint.hold():
            self.close_connection = True
            return
        self._reply(405 if urlsplit(self.path).path == "/wsman" else 404, b"", "text/plain")

    def do_POST(self) -> None:
        endpoint = self.site.endpoint
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if endpoint.hold():
            self.close_connection = True
            return
        if urlsplit(self.path).path != "/wsman":
            self._reply(404, b"", "text/plain")
            return
        user, challenges = self.auth.authenticate(self.headers.get("Authorization"))
        content_type = self.headers.get("Content-Type", "")
        encrypted = is_encrypted(content_type)
        if user is None or (encrypted and self.auth.context is None):
            self._reply(401, b"", None, challenges or self.site.auth.challenges())
            return
        context = self.auth.context if encrypted else None
        try:
            xml = decrypt(context, body) if context is not None else body
        except ValueError:
            self._reply(400, b"", "text/plain")
            return
        failure = endpoint.next_failure()
        if failure is not None:
            status, body, content_type, *location = failure
            self._reply(status, body, content_type, location=next(iter(location), None))
        elif not xml.strip():
            self._reply(200, b"", None)  # pywinrm's empty POST that sets up encryption
        else:
            try:
                status, response = endpoint.process(xml, body, user, content_type)
            except Dropped:
                self.close_connection = True
                return
            except RawReply as raw:
                self._write_raw(raw)
                return
            if context is not None:
                self._reply(status, encrypt(context, response), ENCRYPTED_CONTENT_TYPE)
            else:
                self._reply(status, response, "application/soap+xml;charset=UTF-8")

    def _write_raw(self, raw: RawReply) -> None:
        endpoint, headers = self.site.endpoint, self.headers
        endpoint.record_http(
            self.command, self.path, raw.status, headers["Authorization"], headers["Content-Type"]
        )
        self.close_connection = not raw.keep_alive
        for part in raw.parts:
            if isinstance(part, float):
                if endpoint.stopping.wait(part):
                    return
                continue
            self.wfile.write(part)
            self.wfile.flush()

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        challenges: Sequence[str] = (),
        location: str | None = None,
    ) -> None:
        # Logged before sending so a test that has its response can already see the record.
        headers = self.headers
        self.site.endpoint.record_http(
            self.command, self.path, status, headers["Authorization"], headers["Content-Type"] or ""
        )
        self.send_response(status)
        for challenge in challenges:
            self.send_header("WWW-Authenticate", challenge)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
