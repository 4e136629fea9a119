"""One check's exchange with a host, bounded: bytes read, compressed replies, and the deadline.

pywinrm reads every reply whole through requests, which inflates gzip and only times single
socket reads. Its transport here sends every request through a :class:`BoundedAdapter`, which
asks for identity encoding, refuses a compressed reply, reads the body raw in pieces under a
per-reply and a per-exchange cap, and lets a watchdog shut the connection at the deadline.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError
from winrm.exceptions import WinRMTransportError
from winrm.transport import Transport

from checks.inventory import DEFAULT_EXCHANGE_BYTES

MIB = 1024 * 1024
# A real reply is at most the MaxEnvelopeSize pywinrm asks for (150 KiB) plus encryption framing.
MAX_REPLY_BYTES = 1 * MIB
# Everything one check reads (every reply's body, stdout and stderr inside), unless the server's
# max_exchange_bytes says otherwise.
MAX_EXCHANGE_BYTES = DEFAULT_EXCHANGE_BYTES
# Lets the shell's Delete through after the output used the whole budget.
CLOSE_ALLOWANCE = 64 * 1024
_PIECE = 64 * 1024
_RECUT_S = 0.1  # how often the watchdog re-shuts connections opened after the deadline


class ExchangeRefused(Exception):
    """The host broke a limit of the exchange; the check stops with one sentence."""


class DeadlineReached(ExchangeRefused):
    """The exchange's deadline passed."""


class TooMuchOutput(ExchangeRefused):
    """A reply, or the replies together, are larger than allowed."""

    def __init__(self, limit: int, *, whole_exchange: bool) -> None:
        super().__init__(limit)
        self.limit = limit
        self.whole_exchange = whole_exchange


class CompressedReply(ExchangeRefused):
    """The host sent a Content-Encoding other than identity, which was not asked for."""

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self.encoding = encoding


class Redirected(ExchangeRefused):
    """The host answered with a redirect: backupcheck contacts only the address configured."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class MalformedReply(ExchangeRefused):
    """A reply pywinrm could not read: ``action`` is the request it answered."""

    def __init__(self, action: str, problem: str) -> None:
        super().__init__(action, problem)
        self.action = action
        self.problem = problem


class Exchange:
    """The budget of one check: a deadline and a byte cap, with a watchdog thread that shuts
    the check's connections when the deadline passes (a blocked read then returns at once)."""

    def __init__(
        self,
        deadline_s: float,
        max_bytes: int = MAX_EXCHANGE_BYTES,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        self.deadline = time.monotonic() + deadline_s
        self.max_bytes = max_bytes
        self.max_reply_bytes = min(max_reply_bytes, max_bytes)
        self.used = 0
        self._expired = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []
        self._watchdog = threading.Thread(target=self._watch, name="exchange-watchdog", daemon=True)

    @property
    def expired(self) -> bool:
        return self._expired.is_set() or time.monotonic() >= self.deadline

    def remaining(self) -> float:
        """Seconds left; raises DeadlineReached when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0 or self._expired.is_set():
            raise DeadlineReached
        return left

    def count(self, size: int) -> None:
        """Add bytes read to the budget; raises TooMuchOutput once it is spent."""
        self.used += size
        if self.used > self.max_bytes:
            raise TooMuchOutput(self.max_bytes, whole_exchange=True)

    def allow_close(self) -> None:
        """Room for the small Delete reply, even after the output spent the budget."""
        self.max_bytes = max(self.max_bytes, self.used) + CLOSE_ALLOWANCE

    def track(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)

    def __enter__(self) -> Exchange:
        self._watchdog.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        with self._lock:
            connections, self._connections = self._connections, []
        # Whatever pywinrm left open (an abandoned reply, a cut connection) is closed here.
        for connection in connections:
            connection.close()

    def _watch(self) -> None:
        if self._done.wait(max(self.deadline - time.monotonic(), 0)):
            return
        self._expired.set()
        while True:
            self._cut()
            if self._done.wait(_RECUT_S):
                return

    def _cut(self) -> None:
        with self._lock:
            sockets = [c.sock for c in self._connections if c.sock is not None]
        for sock in sockets:
            # Already closed or never connected: nothing left to cut.
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also for TLS: wakes a read blocked in another
                # thread without touching the TLS object that thread is using.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class BoundedAdapter(HTTPAdapter):
    """requests' adapter with every reply read raw under the exchange's caps and deadline."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        track = self._exchange.track

        class TrackedHTTPPool(HTTPConnectionPool):
            def _new_conn(self) -> Any:
                connection = super()._new_conn()
                track(cast(HTTPConnection, connection))
                return connection

        class TrackedHTTPSPool(HTTPSConnectionPool):
            def _new_conn(self) -> Any:
                connection = super()._new_conn()
                track(cast(HTTPConnection, connection))
                return connection

        self.poolmanager.pool_classes_by_scheme = {
            "http": TrackedHTTPPool,
            "https": TrackedHTTPSPool,
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        exchange = self._exchange
        left = exchange.remaining()
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        limits = (min(connect or left, left), min(read or left, left))
        # requests asks for gzip and deflate by default; a bomb then inflates in memory.
        request.headers["Accept-Encoding"] = "identity"
        response = super().send(
            request, stream=True, timeout=limits, verify=verify, cert=cert, proxies=proxies
        )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        declared = response.headers.get("Content-Length", "")
        if encoding not in ("", "identity"):
            response.close()
            raise CompressedReply(encoding[:40])
        if response.is_redirect:
            # requests would follow it to any host; only the inventory's address is contacted.
            response.close()
            raise Redirected(response.status_code)
        if declared.isdigit() and int(declared) > exchange.max_reply_bytes:
            response.close()
            raise TooMuchOutput(exchange.max_reply_bytes, whole_exchange=False)
        # The body stays unread: requests_ntlm's auth hook needs the open socket of a 401 (for
        # channel binding), and then reads .content, which BoundedResponse bounds.
        bounded = BoundedResponse(exchange)
        bounded.__dict__.update(response.__dict__)
        return bounded


class BoundedResponse(requests.Response):
    """A response whose body, read on first use of .content, is bounded by the exchange."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self._exchange = exchange

    @property
    def content(self) -> bytes:
        if not getattr(self, "_content_consumed", False):
            try:
                self._content = _read(self.raw, self._exchange)
            except BaseException:
                self.close()
                raise
            self._content_consumed = True
            self.raw.release_conn()
        return self._content or b""


def _read(raw: Any, exchange: Exchange) -> bytes:
    """The body as sent (never inflated), in pieces, under the caps and the deadline."""
    cap = exchange.max_reply_bytes
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in raw.stream(_PIECE, decode_content=False):
            size += len(piece)
            if size > cap:
                raise TooMuchOutput(cap, whole_exchange=False)
            exchange.count(len(piece))
            exchange.remaining()
            pieces.append(piece)
    # What requests' own iter_content turns urllib3's errors into, so they map the same.
    except ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from error
    except ReadTimeoutError as error:
        raise requests.exceptions.ReadTimeout(error) from error
    except SSLError as error:
        raise requests.exceptions.SSLError(error) from error
    return b"".join(pieces)


class BoundedTransport(Transport):
    """pywinrm's transport with every request, the encryption set-up included, bounded."""

    def __init__(self, exchange: Exchange, **options: Any) -> None:
        super().__init__(**options)
        self._exchange = exchange

    def build_session(self) -> requests.Session:
        """pywinrm's session, deaf to the process environment after it is built."""
        session = super().build_session()
        # Proxies and the CA are set explicitly per server; with trust_env, requests would
        # still walk all of os.environ for proxy settings on every request.
        session.trust_env = False
        return session

    def _send_message_request(
        self, session: requests.Session, prepared_request: requests.PreparedRequest
    ) -> requests.Response:
        # The one method every request goes through, handed the session pywinrm just built.
        if not isinstance(session.get_adapter(prepared_request.url or ""), BoundedAdapter):
            adapter = BoundedAdapter(self._exchange)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        try:
            return super()._send_message_request(session, prepared_request)
        except UnicodeDecodeError as error:
            # pywinrm decodes an error reply's body as strict UTF-8; the status is what counts.
            http_error = error.__context__
            response = getattr(http_error, "response", None)
            status = response.status_code if isinstance(response, requests.Response) else 0
            raise WinRMTransportError("http", status, "") from None
