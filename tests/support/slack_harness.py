"""Runs real bolt apps against :class:`~.slack_api.SlackStandIn`, and stops every thread after.

* :func:`web_client` - a ``WebClient`` aimed at the stand-in.
* :func:`bolt_app` - an ``App`` on that client, with a listener pool that is shut down on exit
  (bolt's own default pool is never shut down, which would leak threads between tests).
* :func:`socket_mode` - bolt's builtin ``SocketModeHandler`` connected via ``connect()``.
* :func:`http_server` - the app behind ``slack_bolt.adapter.wsgi`` on a loopback wsgiref server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from .slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn

__all__ = ["bolt_app", "http_server", "socket_mode", "web_client"]


def web_client(stand_in: SlackStandIn, token: str = BOT_TOKEN, **kwargs: Any) -> WebClient:
    """A real WebClient whose base URL is the stand-in's ``/api/``."""
    return WebClient(token=token, base_url=stand_in.api_url, **kwargs)


@contextmanager
def bolt_app(
    stand_in: SlackStandIn,
    *,
    token: str = BOT_TOKEN,
    signing_secret: str | None = None,
    **kwargs: Any,
) -> Iterator[App]:
    """A bolt App whose client (and so ``auth.test`` at start-up) goes to the stand-in.

    The token travels inside the client: bolt ignores ``App(token=...)`` when ``client`` is
    given too (it only logs a warning).
    """
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bolt-listener")
    try:
        app = App(
            client=web_client(stand_in, token),
            signing_secret=signing_secret,
            listener_executor=executor,
            **kwargs,
        )
        yield app
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def socket_mode(
    stand_in: SlackStandIn, app: App, app_token: str = APP_TOKEN, *, ping_interval: float = 10
) -> Iterator[SocketModeHandler]:
    """Connects ``app`` over Socket Mode (non-blocking ``connect()``); closes it on exit."""
    handler = SocketModeHandler(app, app_token=app_token, ping_interval=ping_interval)
    try:
        handler.connect()
        yield handler
    finally:
        # The builtin client's receive loop only notices its own close() after its 3 s socket
        # timeout; a close frame from the server side ends it at once.
        stand_in.socket.disconnect_all(reason=None)
        handler.close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_server(app: App, path: str = "/slack/events") -> Iterator[str]:
    """Serves ``app`` over HTTP on loopback; yields the request URL Slack would POST to."""
    server: WSGIServer = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app, path=path), handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="bolt-wsgi", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
