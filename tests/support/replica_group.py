"""Several bots on one database in one test process, each with its replica id, against the
loopback fleet and Slack, on one clock: what tests of claims across replicas share."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from apscheduler.job import Job as TimedJob
from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import select

from bot.alerts.schedule.runner import JOB_PREFIXES
from bot.alerts.wiring import Alerting, build_alerting
from bot.config import Config
from bot.slack.client import web_client
from bot.storage.database import open_database
from bot.storage.models import ScheduledRun
from checks.collect.winrm import winrm_collect
from checks.fleet import Collect
from checks.inventory import Server
from checks.snapshot import Snapshot
from tests.bot.conftest import Clock, alert_config
from tests.conftest import ENVIRON
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

LEASE = timedelta(seconds=60)


def fleet_config(fleet: SimulatedFleet, count: int, **alerts: Any) -> Config:
    """`count` servers (s1, s2, …) at fs01's address, all backing up at 21:00 Tokyo time."""
    document = alert_config(fleet, lease_s=int(LEASE.total_seconds()), **alerts).model_dump(
        exclude_none=True
    )
    (fs01,) = document["servers"]
    document["servers"] = [{**fs01, "name": f"s{i}"} for i in range(1, count + 1)]
    return Config.model_validate(document)


class Replicas:
    """Several bots on one database and one clock, each with its replica id, recording which
    of them checked which server."""

    def __init__(self, config: Config, url: str, stand_in: SlackStandIn, clock: Clock) -> None:
        self.config, self.url, self.stand_in, self.clock = config, url, stand_in, clock
        self.checked: list[tuple[int, str]] = []
        self.hold: Callable[[], None] = lambda: None  # runs inside every check
        self._lock = threading.Lock()
        self.bots: list[Alerting] = []

    def add(self) -> Alerting:
        index = len(self.bots)
        real = winrm_collect(self.config, ENVIRON)

        def collect(server: Server) -> Snapshot:
            with self._lock:
                self.checked.append((index, server.name))
            self.hold()
            return real(server)

        bot = self._build(collect)
        self.bots.append(bot)
        return bot

    def _build(self, collect: Collect) -> Alerting:
        client = web_client(BOT_TOKEN, self.stand_in.api_url)
        sessions = open_database(self.url)
        return build_alerting(self.config, sessions, client, collect, self.clock)

    def checks_per_server(self) -> Counter[str]:
        return Counter(server for _, server in self.checked)


def fire_due(bot: Alerting, now: datetime) -> list[str]:
    """What APScheduler does at `now`: run each check job whose time came, once."""
    fired = []
    due: list[TimedJob] = [
        job
        for job in bot.scheduler.apscheduler.get_jobs()
        if job.id.startswith(JOB_PREFIXES) and job.next_run_time <= now
    ]
    for job in due:
        try:
            job.remove()
        except JobLookupError:  # an earlier job's re-plan dropped it: someone finished it
            continue
        job.func(*job.args)
        fired.append(job.id)
    return fired


def runs(url: str) -> dict[str, ScheduledRun]:
    with open_database(url)() as session:
        return {f"{r.kind}:{r.server}": r for r in session.scalars(select(ScheduledRun))}


@contextmanager
def replica_groups(
    stand_in: SlackStandIn, fleet: SimulatedFleet, url: str, clock: Clock
) -> Iterator[Callable[..., Replicas]]:
    """Makes groups of replicas (`make(servers, **alerts)`); every bot is stopped at the end."""
    made: list[Replicas] = []

    def make(servers: int, **alerts: Any) -> Replicas:
        made.append(Replicas(fleet_config(fleet, servers, **alerts), url, stand_in, clock))
        return made[-1]

    yield make
    for group in made:
        for bot in group.bots:
            bot.scheduler.stop(wait=True)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on threads released together; their results in order."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait(timeout=10)
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
