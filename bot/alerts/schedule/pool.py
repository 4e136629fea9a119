"""APScheduler's jobs on daemon threads (bot.daemon_pool), which a shutdown waits for only as
long as it chooses, after its lease was handed back to another replica."""

from __future__ import annotations

from apscheduler.executors.pool import BasePoolExecutor

from bot.daemon_pool import DaemonPool


class DaemonExecutor(BasePoolExecutor):  # type: ignore[misc]
    """An APScheduler executor on a DaemonPool."""

    def __init__(self, workers: int, name: str) -> None:
        self.pool = DaemonPool(workers, name)
        super().__init__(self.pool)
