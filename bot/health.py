"""The running bot's health, on 127.0.0.1: Slack connection up, scheduler running.

`backupcheck health` (Docker's HEALTHCHECK) asks it; so can any orchestrator's probe.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class HealthStatus:
    """What the bot reports about itself."""

    healthy: bool
    slack: str  # connected, disconnected
    scheduler: str  # running, stopped, off (no alerts.channel)


class Health:
    """Gathers the parts' states when asked; never cached, so a dead part shows at once."""

    def __init__(
        self, slack_connected: Callable[[], bool], scheduler_running: Callable[[], bool] | None
    ) -> None:
        self._slack_connected = slack_connected
        self._scheduler_running = scheduler_running

    def status(self) -> HealthStatus:
        """The current state; healthy when Slack is connected and the scheduler (if any) runs."""
        slack = self._slack_connected()
        if self._scheduler_running is None:
            scheduler, scheduler_ok = "off", True
        else:
            scheduler_ok = self._scheduler_running()
            scheduler = "running" if scheduler_ok else "stopped"
        return HealthStatus(
            slack and scheduler_ok, "connected" if slack else "disconnected", scheduler
        )


def serve_health(health: Health, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Answer GET /healthz with 200 or 503 and the status as JSON, on a thread of its own."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != HEALTH_PATH:
                self.send_error(404)
                return
            status = health.status()
            body = json.dumps(asdict(status)).encode("utf-8")
            self.send_response(200 if status.healthy else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("health: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def ask_health(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> HealthStatus | None:
    """The running bot's answer; None when nothing answers on that port."""
    url = f"http://{host}:{port}{HEALTH_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as error:
        document = json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return None
    try:
        return HealthStatus(
            bool(document["healthy"]), str(document["slack"]), str(document["scheduler"])
        )
    except (KeyError, TypeError):
        return None
