"""The installed `backupcheck` console script, and the bot wired to a loopback Slack."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_bolt import App

from bot.app import build_app
from bot.config import Config
from bot.serve import EVENTS_PATH, make_http_server
from bot.services import Services
from checks.collect.winrm import winrm_collect
from checks.inventory import Server
from checks.snapshot import Snapshot
from tests.conftest import ENVIRON, inventory_for
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn
from tests.support.slack_harness import socket_mode

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
