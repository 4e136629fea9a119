"""The installed `backupcheck` console script, and the bot wired to a loopback Slack."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from slack_bolt import App

from bot.alerts.history import History
from bot.alerts.wiring import Alerting
from bot.config import Config
from bot.serve import EVENTS_PATH, make_http_server
from bot.slack.app import build_app
from bot.slack.services import Services
from bot.storage.database import open_database
from checks.collect.winrm import winrm_collect
from checks.inventory import Server
from checks.report import Report
from checks.snapshot import Snapshot
from tests.conftest import ENVIRON, PASSWORD, PROFILES, USER, inventory_for
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn
from tests.support.slack_harness import socket_mode

if TYPE_CHECKING:  # replica_group builds on this module's Clock and alert_config
    from tests.support.replica_group import Replicas

BACKUPCHECK = Path(sys.executable).with_name("backupcheck")
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - Slack's documented example

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run backupcheck with arguments; returns the finished process (never raises on exit code)."""

    def run_backupcheck(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k != "BACKUPCHECK_CONFIG"}
        environment.update({"COLUMNS": "160", "NO_COLOR": "1"}, **(env or {}))
        return subprocess.run(
            [str(BACKUPCHECK), *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=environment,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    return run_backupcheck


@dataclass
class Bot:
    """Our bolt App wired to the stand-in and to the simulated fleet, plus what it contacted."""

    app: App
    services: Services
    contacted: list[str]


@pytest.fixture
def bot(stand_in: SlackStandIn, fleet: SimulatedFleet) -> Iterator[Bot]:
    """The app with fs01, dc01 and jp01 in its inventory and the listeners registered."""
    inventory = inventory_for(fleet, ["fs01", "dc01", "jp01", "fault-refused"])
    config = Config.model_validate(inventory.model_dump(exclude_none=True))
    contacted: list[str] = []
    collect = winrm_collect(config, ENVIRON)

    def recording_collect(server: Server) -> Snapshot:
        contacted.append(server.address)
        return collect(server)

    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-bolt")
    app, services = build_app(
        config,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=stand_in.api_url,
        collect=recording_collect,
        listener_pool=pool,
    )
    try:
        yield Bot(app, services, contacted)
    finally:
        services.checks.shutdown(wait=True)
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def socket_bot(stand_in: SlackStandIn, bot: Bot) -> Iterator[Bot]:
    """The bot connected over Socket Mode."""
    with socket_mode(stand_in, bot.app):
        stand_in.wait_connected()
        yield bot


@pytest.fixture
def http_url(bot: Bot) -> Iterator[str]:
    """The bot behind `backupcheck serve --mode http`'s own server, on a free loopback port."""
    server = make_http_server(bot.app, 0, "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class HeldBot:
    """The bot in HTTP mode with one check worker, room for two waiting checks, and hosts held
    until `release` is set; `contacted` names each server a check reached."""

    url: str
    release: threading.Event
    contacted: list[str]


@pytest.fixture
def held_bot(stand_in: SlackStandIn, fleet: SimulatedFleet) -> Iterator[HeldBot]:
    """A bot whose check queue fills up: checks wait at the host until the test releases them."""
    settings = inventory_for(fleet, ["fs01", "dc01"]).model_dump(exclude_none=True)
    settings["slack"] = {"check_workers": 1, "check_queue_limit": 2}
    config = Config.model_validate(settings)
    collect = winrm_collect(config, ENVIRON)
    held = HeldBot("", threading.Event(), [])

    def held_collect(server: Server) -> Snapshot:
        held.contacted.append(server.name)
        held.release.wait(20)
        return collect(server)

    app, services = build_app(
        config,
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=stand_in.api_url,
        collect=held_collect,
    )
    server = make_http_server(app, 0, "127.0.0.1")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    held.url = f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"
    try:
        yield held
    finally:
        held.release.set()
        server.shutdown()
        services.checks.shutdown(wait=True)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, hour: int, minute: int = 0) -> datetime:
        """Move to hour:minute of the same day in the clock's time zone."""
        self.now = self.now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return self.now


JST = timezone(timedelta(hours=9))
EVENING = datetime(2026, 11, 24, 19, 0, tzinfo=JST)
ALERT_CHANNEL = "C123"
ON_CALL = "S0ONCALL"


@dataclass
class AlertBot:
    """The bot with scheduled alerts, a clock the test moves, and the fleet it checks."""

    app: App
    services: Services
    alerting: Alerting
    clock: Clock
    fleet: SimulatedFleet


@pytest.fixture
def evening_fleet() -> Iterator[SimulatedFleet]:
    """fs01 (D: at 235 MB free) and dc01, in a fleet of this test's own, so it can be changed."""
    profiles = {name: PROFILES[name] for name in ("fs01", "dc01")}
    with SimulatedFleet(profiles, users={USER: PASSWORD}) as running:
        yield running
        assert running.errors == []


@pytest.fixture
def clock() -> Clock:
    """19:00 JST on the evening the alert tests play out; it moves only when the test says so."""
    return Clock(EVENING)


@pytest.fixture
def replicas(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, clock: Clock
) -> Iterator[Callable[..., Replicas]]:
    """Makes groups of in-process replicas on one database (`replicas(servers, **alerts)`), all
    on `clock` and the evening fleet; every one is stopped at the end."""
    from tests.support.replica_group import replica_groups

    with replica_groups(stand_in, evening_fleet, database_url, clock) as make:
        yield make


def alert_config(
    fleet: SimulatedFleet, forecast: dict[str, Any] | None = None, **alerts: Any
) -> Config:
    """fs01 backs up at 21:00 Tokyo time; alerts go to C123 and escalate to S0ONCALL. Survey
    checks and forecasts only with `forecast` (its settings): the evenings count their checks."""
    inventory = inventory_for(
        fleet, ["fs01"], backup_times=["21:00"], timezone="Asia/Tokyo", lead_time_min=60
    )
    settings = {
        "channel": ALERT_CHANNEL,
        "on_call_usergroup": ON_CALL,
        "escalate_after_min": 20,
        "jitter_s": 0,
        "edit_interval_s": 0,
        **alerts,
    }
    document = {**inventory.model_dump(exclude_none=True), "alerts": settings}
    return Config.model_validate({**document, "forecast": forecast or {"enabled": False}})


@contextlib.contextmanager
def running_alert_bot(
    stand_in: SlackStandIn,
    fleet: SimulatedFleet,
    database_url: str,
    config: Config | None = None,
    **alerts: Any,
) -> Iterator[AlertBot]:
    """The bot with alerts on a database, connected over Socket Mode, at 19:00 JST; with
    config, that configuration instead of alert_config's."""
    config = config or alert_config(fleet, **alerts)
    clock = Clock(EVENING)
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-bolt")
    app, services = build_app(
        config,
        bot_token=BOT_TOKEN,
        api_url=stand_in.api_url,
        collect=winrm_collect(config, ENVIRON),
        listener_pool=pool,
        sessions=open_database(database_url),
        clock=clock,
    )
    assert services.alerting is not None
    try:
        with socket_mode(stand_in, app):
            stand_in.wait_connected()
            yield AlertBot(app, services, services.alerting, clock, fleet)
    finally:
        services.checks.shutdown(wait=True)
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def alert_bot(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[AlertBot]:
    """The bot with alerts (default settings of alert_config) at 19:00 JST."""
    with running_alert_bot(stand_in, evening_fleet, database_url) as running:
        yield running


def open_alert(bot: AlertBot, stand_in: SlackStandIn) -> dict[str, Any]:
    """Run the 20:00 check (fs01 is short of space) and deliver: the alert message as posted."""
    bot.clock.set(20, 0)
    bot.alerting.driver.run_due()
    bot.alerting.outbox.deliver_due()
    (top,) = [
        m
        for (channel, _), m in stand_in.messages.items()
        if channel == ALERT_CHANNEL and "thread_ts" not in m
    ]
    return top


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until condition() holds: the bot acts on its own threads after Slack's ack."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the bot did not get there in time"
        time.sleep(0.02)


def control(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The button or menu with action_id in a message's actions block."""
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    found: dict[str, Any] = next(e for e in actions["elements"] if e["action_id"] == action_id)
    return found


def store_drain(
    history: History, report: Report, letter: str, per_day: int, days: int = 10
) -> None:
    """Store the report's server checked every six hours for `days` days before it, the
    volume `letter` losing `per_day` bytes a day down to what the report found."""
    for k in range(days * 4, 0, -1):
        volumes = [
            v.model_copy(update={"free_bytes": v.free_bytes + per_day * k // 4})
            if v.letter == letter
            else v
            for v in report.volumes
        ]
        at = report.checked_at - timedelta(hours=6 * k)
        history.record(report.model_copy(update={"checked_at": at, "volumes": volumes}))
