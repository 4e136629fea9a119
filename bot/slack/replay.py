"""Replay protection for HTTP mode: a signed request is accepted once.

Slack's signature covers the timestamp and the body, and bolt accepts it for five minutes either
side of now (https://docs.slack.dev/authentication/verifying-requests-from-slack/). Within that
window a captured request could be sent again; this remembers each accepted signature until its
timestamp leaves the window. Only signatures bolt has verified are stored, so memory grows with
Slack's own traffic, never with an attacker's. The process's own record is the first, cheap
check; with a database, the record there (bot/storage/seen_requests.py) refuses a replay sent to
another replica behind the same load balancer, or to this one after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

logger = logging.getLogger(__name__)
# slack_sdk's SignatureVerifier accepts |now - timestamp| <= 300 s; one second more for rounding.
WINDOW_S = 300 + 1


class SeenSignatures:
    """Signatures already accepted, each kept until its timestamp is too old to verify."""

    def __init__(self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.time) -> None:
        self._window_s = window_s
        self._clock = clock
        # Signature to expiry, oldest first. Strings and floats only: unlike a heap of tuples,
        # five minutes of signatures add no object for the garbage collector to track.
        # Expiries come in nearly in order (Slack stamps requests when it sends them); one out of
        # order only keeps the entries behind it a little longer, never forgets one too early.
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def first_time(self, signature: str, timestamp: int) -> bool:
        """True (and remembered) the first time; False for a replay."""
        with self._lock:
            now = self._clock()
            while self._expiry and self._expiry[oldest := next(iter(self._expiry))] < now:
                del self._expiry[oldest]
            if signature in self._expiry:
                return False
            self._expiry[signature] = timestamp + self._window_s
            return True


class SharedRecord(Protocol):
    """Signatures accepted by any replica: False for a replay, None when it cannot tell."""

    def first_time(self, signature: str, timestamp: int) -> bool | None: ...


class ReplayGuard(Middleware):
    """A global bolt middleware that refuses replays; bolt runs it after verifying signatures.
    `shared` is asked only about requests this process has not seen; if it cannot answer,
    the process's own record decides."""

    # A Middleware subclass, not a function given to app.use: bolt then calls it directly
    # instead of matching its arguments by name on every request, which cost as much as the
    # slash command's own listener.
    def __init__(self, seen: SeenSignatures, shared: SharedRecord | None = None) -> None:
        self._seen = seen
        self._shared = shared

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Pass a request on unless its signature was accepted before (then 401)."""
        signature = _header(req, "x-slack-signature")
        timestamp = _header(req, "x-slack-request-timestamp")
        # Socket Mode requests carry no signature: Slack's WebSocket is authenticated instead.
        signed = req.mode != "socket_mode" and signature is not None and timestamp is not None
        if signed and not _first_time(
            self._seen, self._shared, str(signature), int(str(timestamp))
        ):
            logger.warning("refused a replayed request (its signature was already accepted)")
            return BoltResponse(status=401, body="")
        return next()


def _first_time(
    seen: SeenSignatures, shared: SharedRecord | None, signature: str, timestamp: int
) -> bool:
    if not seen.first_time(signature, timestamp):
        return False
    return shared is None or shared.first_time(signature, timestamp) is not False


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None
