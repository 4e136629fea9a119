"""A loopback stand-in for the Slack Web API, response URLs and Socket Mode.

Unmodified ``slack_sdk.WebClient(token=..., base_url=stand_in.api_url)`` talks to it over real
HTTP (form or JSON bodies); bolt's ``SocketModeHandler`` reaches its WebSocket side through
``apps.connections.open``; ``respond()`` posts to its response URLs. Every call is recorded and
answers can be scripted per method: rate limits, 5xx, Slack errors, slow answers, or a dropped
connection.

Layout: default method answers in ``slack_methods``, response URLs in ``slack_response_urls``,
Socket Mode in ``slack_socket``/``slack_deliveries``, HTTP plumbing in ``slack_http``.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .slack_deliveries import SocketModeSide
from .slack_files import FileUploads, Upload
from .slack_http import LoopbackHTTPServer, parse_params, write_response
from .slack_methods import WebApiMethods
from .slack_response_urls import ResponsePost, ResponseUrls
from .slack_socket import Ack, Delivery, SocketModeServer, SocketSession
from .slack_workspace import SlackChannel, SlackUser, TsClock, Workspace

__all__ = [
    "APP_TOKEN",
    "BOT_TOKEN",
    "Ack",
    "Call",
    "Delivery",
    "ResponsePost",
    "ScriptedResponse",
    "SlackChannel",
    "SlackStandIn",
    "SlackUser",
    "SocketSession",
    "Upload",
    "Workspace",
]

log = logging.getLogger(__name__)
BOT_TOKEN = "xoxb-test"  # noqa: S105 - fake tokens the stand-in accepts by default
APP_TOKEN = "xapp-test"  # noqa: S105
APP_LEVEL_METHODS = frozenset({"apps.connections.open"})


@dataclass(frozen=True)
class Call:
    """One Web API request and the answer (``status`` 0: the connection was dropped)."""

    method: str
    token: str | None
    params: dict[str, Any]
    http_method: str
    headers: dict[str, str]
    at: float
    status: int
    response: dict[str, Any] | None


@dataclass(frozen=True)
class ScriptedResponse:
    """A canned answer; ``body=None`` means the default answer (or a generic error body)."""

    status: int = 200
    body: dict[str, Any] | str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    hold: float = 0.0


class SlackStandIn(SocketModeSide):
    """Loopback Slack; use as a context manager or call ``start()``/``stop()``.

    ``users``, ``channels`` and ``usergroups`` are the editable directory behind ``users.info``,
    ``conversations.*`` and ``usergroups.users.list``; ``valid_tokens`` gates every method.
    """

    def __init__(
        self,
        *,
        workspace: Workspace | None = None,
        valid_tokens: set[str] | None = None,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.workspace = workspace or Workspace()
        self.valid_tokens = {BOT_TOKEN, APP_TOKEN} if valid_tokens is None else valid_tokens
        self.clock = TsClock()
        self.socket = SocketModeServer(self.workspace.app_id, ping_interval=ping_interval)
        self.methods = WebApiMethods(self.workspace, self.clock, self.socket.issue_url)
        self.files = FileUploads(
            self.workspace, self.clock, self.methods.channels, lambda: self.base_url
        )
        self.methods.add_handlers(self.files.handlers())
        self.response_urls = ResponseUrls()
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._scripted: dict[str, deque[ScriptedResponse]] = defaultdict(deque)
        self._http: LoopbackHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._http.port if self._http else 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)``."""
        return f"{self.base_url}api/"

    @property
    def users(self) -> dict[str, SlackUser]:
        return self.methods.users

    @property
    def channels(self) -> dict[str, SlackChannel]:
        return self.methods.channels

    @property
    def usergroups(self) -> dict[str, list[str]]:
        return self.methods.usergroups

    @property
    def messages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Messages the bot posted or updated, keyed by (channel, ts)."""
        return self.methods.messages

    def start(self) -> SlackStandIn:
        self.socket.start()
        self._http = LoopbackHTTPServer(self._dispatch)
        self._http.start()
        return self

    def stop(self) -> None:
        self.socket.stop()
        if self._http is not None:
            self._http.stop()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Web API records and scripting ---------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded Web API calls, oldest first (all, or those of one method)."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Blocks until ``count`` calls of ``method`` arrived; returns all calls of it."""
        with self._cond:
            arrived = self._cond.wait_for(lambda: len(self.calls(method)) >= count, timeout)
            if not arrived:
                seen = Counter(c.method for c in self._calls)
                summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
                raise AssertionError(
                    f"waited {timeout}s for {count} call(s) of {method}; calls so far: {summary}"
                )
            return self.calls(method)

    def clear(self) -> None:
        """Forgets recorded calls, response-URL posts and unused scripted answers."""
        with self._cond:
            self._calls.clear()
            self._scripted.clear()
        self.response_urls.clear()

    def queue_response(
        self,
        method: str,
        *,
        status: int = 200,
        body: dict[str, Any] | str | bytes | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        drop: bool = False,
        delay: float = 0.0,
        hold: float = 0.0,
    ) -> None:
        """Scripts the next ``times`` answers of ``method``.

        ``body=None`` keeps the default answer for status 200 and otherwise sends Slack's error
        for the status (429 ``ratelimited``, 5xx ``internal_error``). ``drop`` closes the
        connection without answering; ``delay`` (seconds) stalls before answering; ``hold``
        stalls after Slack has done the work but before the answer leaves (a client killed
        then never learns that its post went through).
        """
        scripted = ScriptedResponse(status, body, dict(headers or {}), drop, delay, hold)
        with self._cond:
            self._scripted[method].extend([scripted] * times)

    # --- response URLs -------------------------------------------------------------------------

    def response_url(self, name: str | None = None) -> str:
        """A fresh response URL (5 posts within ``response_urls.ttl`` seconds)."""
        return f"{self.base_url}response/{self.response_urls.issue(name)}"

    def responses(self, id: str | None = None) -> list[ResponsePost]:
        """Posts to response URLs: all, or those to one URL (its id or the full URL)."""
        return self.response_urls.posts(id)

    def wait_for_response(
        self, count: int = 1, timeout: float = 5.0, id: str | None = None
    ) -> list[ResponsePost]:
        return self.response_urls.wait(count, timeout, id)

    # --- HTTP ----------------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        url = urlsplit(handler.path)
        try:
            if url.path.startswith("/api/"):
                self._web_api(handler, url.path.removeprefix("/api/"), url.query, raw)
            elif url.path.startswith("/upload/v1/"):
                status, text = self.files.receive(url.path.removeprefix("/upload/v1/"), raw)
                write_response(handler, status, text)
            elif url.path.startswith("/response/"):
                url_id = url.path.removeprefix("/response/")
                status, answer = self.response_urls.post(url_id, raw, dict(handler.headers))
                write_response(handler, status, answer)
            else:
                write_response(handler, 404, {"ok": False, "error": "not_found"})
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client went away (or was killed): not our bug
        except Exception as exc:
            log.exception("stand-in failed on %s", handler.path)
            self.errors.append(f"{handler.path}: {exc!r}")
            write_response(handler, 500, {"ok": False, "error": "stand_in_error"})

    def _web_api(
        self, handler: BaseHTTPRequestHandler, method: str, query: str, raw: bytes
    ) -> None:
        params = parse_params(handler.headers.get("Content-Type", ""), raw, query)
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        # Slack still accepts the token as a form field, as old clients send it.
        form_token = params.pop("token", None)
        token = token or (str(form_token) if form_token else None)
        with self._cond:
            queue = self._scripted.get(method)
            scripted = queue.popleft() if queue else ScriptedResponse()
        time.sleep(scripted.delay)
        body = scripted.body
        if body is None and not scripted.drop:
            body = self._default_answer(method, token, params, scripted.status)
        status = 0 if scripted.drop else scripted.status
        recorded = body if isinstance(body, dict) else None
        headers_in = dict(handler.headers)
        call = Call(
            method, token, params, handler.command, headers_in, time.time(), status, recorded
        )
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        if body is None:
            handler.close_connection = True
            return
        time.sleep(scripted.hold)
        headers = {"x-slack-req-id": secrets.token_hex(16)}
        if token and token.startswith("xoxb-") and token in self.valid_tokens:
            # Lower case on purpose: bolt looks this header up in a case-sensitive dict.
            headers["x-oauth-scopes"] = ",".join(self.workspace.scopes)
        write_response(handler, scripted.status, body, {**headers, **scripted.headers})

    def _default_answer(
        self, method: str, token: str | None, params: dict[str, Any], status: int
    ) -> dict[str, Any]:
        if status == 429:
            return {"ok": False, "error": "ratelimited"}
        if status >= 500:
            return {"ok": False, "error": "internal_error"}
        if status != 200:
            return {"ok": False, "error": "fatal_error"}
        if not self.methods.knows(method):
            return {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token not in self.valid_tokens:
            return {"ok": False, "error": "invalid_auth"}
        if (method in APP_LEVEL_METHODS) != token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return self.methods.answer(method, params)
