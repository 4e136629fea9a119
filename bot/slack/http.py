"""HTTP mode's server: waitress with Slack-sized limits, in front of bolt's WSGI adapter.

waitress refuses oversized bodies before reading them, drops idle and half-sent connections and
serves requests on a fixed pool of threads; the gate here answers malformed requests with 400
instead of letting bolt raise on them. bolt then checks the signature, and `replay.py` refuses a
signature it has already accepted.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

logger = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# Slack's payloads are small (a button press carries its message's blocks): 1 MiB is ample.
MAX_BODY_BYTES = 1 << 20
# Slack sends Unix seconds; anything else (a float, "1_0", 5,000 digits) is malformed.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP-mode process allows; tests shorten the timeouts."""

    body_bytes: int = MAX_BODY_BYTES
    # Slack sends a request whole and gives up after 3 s: a connection idle this long is dead.
    # waitress looks for idle connections every cleanup_interval_s.
    channel_timeout_s: int = 5
    cleanup_interval_s: int = 1
    # Listeners only ack and hand off to the check pool, so a few threads keep up with Slack.
    threads: int = 8
    # Idle connections cost a socket each and no thread; poll() keeps many of them cheap.
    connections: int = 500
    header_bytes: int = 64 * 1024


class SlackGate:
    """The WSGI app: EVENTS_PATH only, malformed requests refused with 400, the rest to bolt."""

    def __init__(self, app: App, body_bytes: int = MAX_BODY_BYTES) -> None:
        self._bolt = SlackRequestHandler(app, EVENTS_PATH)
        self._body_bytes = body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        if environ.get("PATH_INFO") != EVENTS_PATH:
            return _plain(start_response, "404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            allow = [("Allow", "POST")]
            return _plain(start_response, "405 Method Not Allowed", "POST only", allow)
        # waitress has refused a larger body already; this holds under any other server too.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > self._body_bytes:
            return _plain(start_response, "413 Request Entity Too Large", "too large")
        raw = environ["wsgi.input"].read(length)
        refusal = _refusal(environ, raw)
        if refusal is not None:
            logger.info("refused a request: %s", refusal[1])
            return _plain(start_response, *refusal)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        return self._bolt(environ, start_response)


def _refusal(environ: WSGIEnvironment, raw: bytes) -> tuple[str, str] | None:
    """The status and reason for a request bolt would raise on (and answer 500), or None."""
    bad = "400 Bad Request"
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
        return bad, "X-Slack-Request-Timestamp is not a number"
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    # hmac.compare_digest raises on non-ASCII text, so a mangled signature must stop here.
    if signature is not None and not _SIGNATURE.fullmatch(signature):
        return "401 Unauthorized", "X-Slack-Signature is not v0= and 64 hex digits"
    try:
        body = parse_body(raw.decode("utf-8"), environ.get("CONTENT_TYPE"))
    except UnicodeDecodeError:
        return bad, "the body is not UTF-8"
    except json.JSONDecodeError:
        return bad, "the body is not valid JSON"
    if not isinstance(body, dict):
        return bad, "the body is not a JSON object"
    return None


def _plain(
    start_response: StartResponse,
    status: str,
    text: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = text.encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(data))),
            *(headers or []),
        ],
    )
    return [data]


class HttpServer:
    """waitress on the caller's thread (`serve_forever`), stopped from any thread (`shutdown`)."""

    def __init__(self, app: App, host: str, port: int, limits: HttpLimits) -> None:
        # Our own socket map: waitress's loop and our shutdown touch it on one thread only.
        self._map: dict[int, Any] = {}
        self._server: BaseWSGIServer | MultiSocketServer = create_server(
            SlackGate(app, limits.body_bytes),
            map=self._map,
            host=host,
            port=port,
            threads=limits.threads,
            connection_limit=limits.connections,
            channel_timeout=limits.channel_timeout_s,
            cleanup_interval=limits.cleanup_interval_s,
            # waitress refuses a body of exactly max_request_body_size: allow MAX_BODY_BYTES.
            max_request_body_size=limits.body_bytes + 1,
            max_request_header_size=limits.header_bytes,
            # select() fails past file descriptor 1024; poll() has no such limit.
            asyncore_use_poll=True,
            # A client resetting its connection is not our error; logging each one with a
            # traceback would let anyone flood the log.
            log_socket_errors=False,
            ident="backupcheck",
        )
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._started = threading.Event()

    @property
    def server_port(self) -> int:
        """The bound port (the OS's choice when asked for port 0)."""
        if isinstance(self._server, MultiSocketServer):
            return int(self._server.effective_listen[0][1])
        return int(self._server.getsockname()[1])

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until `shutdown`; every poll_interval seconds the loop looks for it."""
        self._started.set()
        try:
            while not self._stopping.is_set():
                wasyncore.loop(poll_interval, use_poll=True, map=self._map, count=1)
        finally:
            self._close()
            self._stopped.set()

    def is_serving(self) -> bool:
        """Bound, and neither shut down nor stopped by a crash of the loop."""
        return not (self._stopping.is_set() or self._stopped.is_set())

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop accepting, drop every connection, and wait for the loop and the request threads."""
        self._stopping.set()
        if self._started.is_set():
            self._stopped.wait(timeout)
        else:
            self._close()
        # A request still running gets `timeout` seconds; its thread is a daemon after that.
        self._server.task_dispatcher.shutdown(timeout=int(timeout))

    def server_close(self) -> None:
        """Close the listening socket if `serve_forever` never ran (it closes it otherwise)."""
        if not self._started.is_set():
            self._close()

    def _close(self) -> None:
        wasyncore.close_all(self._map)


def make_http_server(
    app: App, port: int, host: str, limits: HttpLimits | None = None
) -> HttpServer:
    """The HTTP-mode server for `app`, bound but not yet serving."""
    return HttpServer(app, host, port, limits or HttpLimits())
