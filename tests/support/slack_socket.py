"""Slack's Socket Mode side on loopback: a WebSocket server built on ``websockets.sync.server``.

``apps.connections.open`` (served by ``slack_api``) hands out single-use URLs from
:meth:`SocketModeServer.issue_url`. A client that connects is greeted with Slack's ``hello``;
tests then push envelopes with :meth:`SocketModeServer.deliver` and wait for the app's ack.
"""

from __future__ import annotations

import http
import json
import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from .slack_workspace import new_envelope_id

__all__ = ["Ack", "Delivery", "SocketModeServer", "SocketSession", "envelope"]

HOST = "applink-stand-in-0"
log = logging.getLogger(__name__)


def envelope(
    kind: str, payload: dict[str, Any], *, accepts_response_payload: bool, **extra: Any
) -> dict[str, Any]:
    """A Socket Mode envelope as Slack frames it."""
    return {
        "envelope_id": new_envelope_id(),
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts_response_payload,
        **extra,
    }


@dataclass(frozen=True)
class Ack:
    """What the app sent back for one envelope, and how long after delivery."""

    envelope_id: str
    payload: dict[str, Any] | None
    message: dict[str, Any]
    elapsed: float
    session: int


@dataclass
class SocketSession:
    """One accepted WebSocket connection (numbered from 1 in connection order)."""

    number: int
    ticket: str
    opened_at: float
    connection: ServerConnection = field(repr=False)
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class Delivery:
    """An envelope sent to the app; :meth:`wait_ack` blocks until it is acknowledged."""

    envelope: dict[str, Any]
    session: int
    sent_at: float
    server: SocketModeServer = field(repr=False)

    @property
    def envelope_id(self) -> str:
        return str(self.envelope["envelope_id"])

    @property
    def payload(self) -> dict[str, Any]:
        return dict(self.envelope["payload"])

    def wait_ack(self, timeout: float = 3.0) -> Ack:
        return self.server.wait_ack(self.envelope_id, timeout=timeout)


class SocketModeServer:
    """Loopback Socket Mode endpoint; ``start()``/``stop()`` or use as a context manager."""

    def __init__(self, app_id: str, *, ping_interval: float | None = 20.0) -> None:
        self.app_id = app_id
        self.ping_interval = ping_interval
        self.port = 0
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._sessions: list[SocketSession] = []
        self._sent: dict[str, float] = {}
        self._acks: dict[str, Ack] = {}
        self._received: list[dict[str, Any]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SocketModeServer:
        self._server = serve(
            self._serve,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            ping_interval=self.ping_interval,
            # Slack's builtin client answers a close frame by dropping the socket, not with a
            # close frame of its own: don't sit out websockets' default 10 s for one.
            close_timeout=1.0,
            logger=log,
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_url(self) -> str:
        """A fresh single-use ``ws://`` URL, as ``apps.connections.open`` returns."""
        ticket = str(uuid.uuid4())
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"

    def sessions(self) -> list[SocketSession]:
        with self._cond:
            return list(self._sessions)

    def acks(self) -> list[Ack]:
        with self._cond:
            return list(self._acks.values())

    def received(self) -> list[dict[str, Any]]:
        """Every JSON message the app sent, acks included."""
        with self._cond:
            return list(self._received)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> SocketSession:
        """Waits until ``count`` sessions were opened in all and the latest is still open."""

        def ready() -> bool:
            return len(self._sessions) >= count and self._sessions[-1].open

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise AssertionError(
                    f"waited {timeout}s for Socket Mode session #{count}; "
                    f"sessions so far: {self._sessions}"
                )
            return self._sessions[-1]

    def deliver(
        self, message: dict[str, Any], *, connect_timeout: float = 5.0, session: int | None = None
    ) -> Delivery:
        """Sends an envelope over the newest open session (waiting for one if needed), or over
        the open session numbered `session`: an app may hold several connections, and Slack
        hands each envelope to one of them (https://api.slack.com/apis/connections/socket-implement,
        https://github.com/slackapi/bolt-python/issues/1071)."""
        if session is None:
            chosen = self._newest_open(connect_timeout)
        else:
            chosen = self._open_session(session)
        session = chosen.number
        envelope_id = str(message["envelope_id"])
        sent_at = time.monotonic()
        with self._cond:
            self._sent[envelope_id] = sent_at
        chosen.connection.send(json.dumps(message))
        return Delivery(message, session, sent_at, self)

    def _newest_open(self, timeout: float) -> SocketSession:
        with self._cond:
            if not self._cond.wait_for(lambda: any(s.open for s in self._sessions), timeout):
                raise AssertionError(f"waited {timeout}s for an open Socket Mode session")
            return [s for s in self._sessions if s.open][-1]

    def _open_session(self, number: int) -> SocketSession:
        with self._cond:
            found = [s for s in self._sessions if s.number == number and s.open]
        if not found:
            raise AssertionError(f"Socket Mode session #{number} is not open: {self.sessions()}")
        return found[0]

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> Ack:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                acked = [a.envelope_id for a in self._acks.values()]
                open_sessions = [s.number for s in self._sessions if s.open]
                raise AssertionError(
                    f"no ack for envelope {envelope_id} within {timeout}s "
                    f"(open sessions: {open_sessions}; acked envelopes: {acked})"
                )
            return self._acks[envelope_id]

    def disconnect_all(self, reason: str | None = "refresh_requested", grace: float = 0.25) -> int:
        """Drops every open session as Slack does; returns how many were open.

        With a ``reason`` Slack first sends a ``disconnect`` message, on which clients reconnect
        at once; without one the socket is just closed (the builtin client then only notices at
        its next ``ping_interval`` check).
        """
        sessions = [s for s in self.sessions() if s.open]
        for session in sessions:
            if reason is not None:
                notice = {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}
                try:
                    session.connection.send(json.dumps(notice))
                except ConnectionClosed:
                    continue
        if reason is not None:
            # Well-behaved clients open a new session and close the old one themselves.
            with self._cond:
                self._cond.wait_for(lambda: not any(s.open for s in sessions), grace)
        for session in sessions:
            if session.open:
                session.connection.close(code=1001, reason="going away")
        return len(sessions)

    # --- websockets callbacks ------------------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._cond:
            valid = parts.path.rstrip("/") == "/link" and ticket in self._tickets
            self._tickets.discard(ticket)
        if valid:
            return None
        return connection.respond(http.HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")

    def _serve(self, connection: ServerConnection) -> None:
        request = connection.request
        ticket = (
            (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0] if request else ""
        )
        hello = {
            "type": "hello",
            "num_connections": 1 + sum(s.open for s in self.sessions()),
            "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        try:
            connection.send(json.dumps(hello))
        except ConnectionClosed:
            return
        with self._cond:
            session = SocketSession(len(self._sessions) + 1, ticket, time.time(), connection)
            self._sessions.append(session)
            self._cond.notify_all()
        try:
            for raw in connection:
                self._on_message(session, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                session.closed_at = time.time()
                self._cond.notify_all()

    def _on_message(self, session: SocketSession, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            self.errors.append(f"session {session.number} sent non-JSON: {raw!r}")
            return
        with self._cond:
            self._received.append(message)
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if envelope_id:
                sent_at = self._sent.get(envelope_id)
                elapsed = time.monotonic() - sent_at if sent_at is not None else math.nan
                payload = message.get("payload")
                self._acks[envelope_id] = Ack(
                    envelope_id, payload, message, elapsed, session.number
                )
            self._cond.notify_all()
