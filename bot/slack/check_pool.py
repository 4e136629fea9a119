"""Runs checks for Slack in a pool of their own, so a slow host never delays bolt's listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from bot.daemon_pool import DaemonPool
from checks.fleet import Collect, Progress, check_fleet
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.report import Report

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """Names typed in Slack, resolved against the inventory."""

    servers: tuple[Server, ...]
    unknown: tuple[tuple[str, str | None], ...]  # (name as typed, closest known name)

    def refusal(self, t: Catalog) -> str | None:
        """The sentence for the first unknown name, with the closest known one; None if none."""
        if not self.unknown:
            return None
        name, hint = self.unknown[0]
        key = "error.unknown_server_hint" if hint else "error.unknown_server"
        return t.text(key, name=name, hint=hint)


class CheckService:
    """The inventory, the collect function and a worker pool, shared by all listeners."""

    def __init__(
        self, inventory: Inventory, collect: Collect, workers: int, queue_limit: int
    ) -> None:
        self.inventory = inventory
        self._collect = collect
        self.queue_limit = queue_limit
        # Daemon threads: on SIGTERM a check hung on a slow host must not hold the process past
        # its grace (the interpreter joins a ThreadPoolExecutor's threads at exit).
        self._pool = DaemonPool(workers, "slack-check")

    def resolve(self, names: Sequence[str]) -> Resolution:
        """Servers for names; unknown names come back with a suggestion and are never contacted."""
        servers: list[Server] = []
        unknown: list[tuple[str, str | None]] = []
        for name in names:
            server = self.inventory.find(name)
            if server is None:
                unknown.append((name, self.inventory.suggest(name)))
            elif server not in servers:
                servers.append(server)
        return Resolution(tuple(servers), tuple(unknown))

    def all_servers(self) -> list[Server]:
        """Every server in the inventory."""
        return self.inventory.resolved()

    def check(
        self, servers: Sequence[Server], t: Catalog, progress: Progress | None = None
    ) -> list[Report]:
        """Reports for servers, in order; failures are `unknown` reports, never exceptions."""
        return check_fleet(servers, self._collect, t, progress=progress)

    def busy_refusal(self, t: Catalog) -> str | None:
        """The sentence for a full queue, None if a job may be queued. A job queued behind
        queue_limit others could answer after its response_url expired, and under a flood the
        queue would grow without bound."""
        if self._pool.waiting() < self.queue_limit:
            return None
        return t.text("slack.busy", count=self.queue_limit)

    def submit(self, job: Callable[[], None]) -> Future[None]:
        """Run job in the check pool; its errors are logged, never lost silently."""
        future = self._pool.submit(job)
        future.add_done_callback(_log_failure)
        return future

    def shutdown(
        self, wait: bool = True, cancel_queued: bool = False, timeout: float | None = None
    ) -> None:
        """Stop the pool: with wait, running checks may finish within timeout (None: however
        long they take); queued ones may be dropped."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_queued, timeout=timeout)


def _log_failure(future: Future[None]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        logger.error("a Slack check job failed", exc_info=error)
