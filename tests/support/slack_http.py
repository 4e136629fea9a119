"""HTTP plumbing for the Slack stand-in: a loopback server that leaves no thread behind."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import SHUT_RDWR, socket
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["JSON_FIELDS", "LoopbackHTTPServer", "parse_params", "write_response"]

# Form-encoded Web API calls carry these as JSON strings; callers want them as lists/objects.
JSON_FIELDS = ("blocks", "attachments", "metadata")
FORM = "application/x-www-form-urlencoded"

Dispatch = Callable[[BaseHTTPRequestHandler, bytes], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.dispatch(self, raw)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackHTTPServer(ThreadingHTTPServer):
    """Thread-per-connection HTTP/1.1 server on 127.0.0.1 with an OS-chosen port.

    ``stop()`` shuts keep-alive sockets down before joining the handler threads, so a client
    that keeps a connection open cannot leave a thread behind.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dispatch = dispatch
        self._open: set[socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        # A short poll interval keeps shutdown() from waiting the default half second.
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="slack-web-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(SHUT_RDWR)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def get_request(self) -> tuple[socket, Any]:
        sock, address = super().get_request()
        with self._lock:
            self._open.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)


def write_response(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any] | str | bytes,
    headers: dict[str, str] | None = None,
) -> None:
    """Answers with ``body``: JSON for a dict, else the text or bytes as an HTML page."""
    if isinstance(body, dict):
        data, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
    else:
        data = body.encode() if isinstance(body, str) else body
        content_type = "text/html; charset=utf-8"
    handler.send_response(status)
    for name, value in {"Content-Type": content_type, **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def parse_params(content_type: str, raw: bytes, query: str) -> dict[str, Any]:
    """Query string plus JSON or form body (JSON-string fields decoded); multipart is skipped."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if content_type.startswith("application/json") and raw:
        params.update(json.loads(raw))
    elif raw and (not content_type or content_type.startswith(FORM)):
        form: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        for name in JSON_FIELDS:
            value = form.get(name)
            if isinstance(value, str) and value.startswith(("[", "{")):
                form[name] = json.loads(value)
        params.update(form)
    return params
