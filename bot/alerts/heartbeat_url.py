"""The dead man's switch: a call to `alerts.heartbeat_url` after each scheduling round that
succeeded, so an outside monitor (healthchecks.io, Uptime Kuma, Cronitor) alerts when it stops.

The URL carries the monitor's token in its path: it is never logged, only why a call failed.
"""

from __future__ import annotations

import http.client
import logging
import threading
import urllib.error
import urllib.request

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0  # a monitor slower than this counts as down; the next round calls again


class HeartbeatUrl:
    """Calls the URL in a thread of its own, one call at a time, so the scheduler never waits;
    a failure is logged once per outage, not every round."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S) -> None:
        self._url = url
        self._timeout = timeout
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self.failing = False

    def ping(self) -> None:
        """Start a call unless one is still under way (a slow monitor: that call counts)."""
        with self._lock:
            if not self._idle.is_set():
                return
            self._idle.clear()
        threading.Thread(target=self._call, name="heartbeat-url", daemon=True).start()

    def wait(self, timeout: float) -> bool:
        """Wait until no call is under way (shutdown and tests); False on timeout."""
        return self._idle.wait(timeout)

    def _call(self) -> None:
        try:
            self._record(self._request())
        finally:
            self._idle.set()

    def _request(self) -> str | None:
        """Why the call failed, in words without the URL; None when the monitor took it."""
        request = urllib.request.Request(  # noqa: S310 (the config allows http(s) URLs only)
            self._url, headers={"User-Agent": "backupcheck"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                answer.read(4096)  # healthchecks.io answers "OK"; nothing else matters
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}"
        except urllib.error.URLError as error:
            return str(error.reason)
        except (OSError, http.client.HTTPException) as error:  # timeouts, resets, bad answers
            return type(error).__name__ + (f": {error}" if str(error) else "")
        return None

    def _record(self, failure: str | None) -> None:
        if failure is not None and not self.failing:
            logger.warning(
                "the heartbeat_url call failed (%s); the outside monitor will alert if this goes "
                "on. Logged once until it answers again",
                failure,
            )
        elif failure is None and self.failing:
            logger.info("the heartbeat_url answers again")
        self.failing = failure is not None
