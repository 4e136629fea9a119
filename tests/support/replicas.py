"""Real `backupcheck serve` replicas on one database, against a fleet of many copies of two
profiled hosts (fs01 fails, jp01 passes): the tests of issue 16 and bench/replicas.py share this."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import yaml
from sqlalchemy import Connection, Engine, create_engine, text

from tests.conftest import PASSWORD, PROFILES, USER
from tests.support.fleet import SimulatedFleet
from tests.support.fleet_profiles import HostProfile
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn

BACKUPCHECK = Path(sys.executable).with_name("backupcheck")
# Where replicas keep their compiled bytecode, outside the source tree: a replica that compiles
# every module it imports spends about 2 s of CPU starting, and a test starts dozens of them.
PYCACHE = Path(tempfile.gettempdir()) / f"backupcheck-pycache-{os.getuid()}"
ALERT_CHANNEL = "C123"  # the channel the loopback Slack has the bot in (tests/bot/conftest.py)


def failing(index: int) -> str:
    """The name of the index-th host that fails (a copy of fs01: D: too full)."""
    return f"fs{index:03d}"


def healthy(index: int) -> str:
    """The name of the index-th host that gets no alert (a copy of jp01: a warning only)."""
    return f"jp{index:03d}"


@contextmanager
def copied_fleet(
    failing_hosts: int, healthy_hosts: int, latency_ms: int
) -> Iterator[SimulatedFleet]:
    """A fleet of copies of fs01 and jp01, each answering every request after latency_ms."""
    profiles: dict[str, HostProfile] = {}
    for count, seed, name in ((failing_hosts, "fs01", failing), (healthy_hosts, "jp01", healthy)):
        profile = PROFILES[seed]
        for index in range(count):
            profiles[name(index)] = profile.model_copy(update={"latency_ms": latency_ms})
    with SimulatedFleet(profiles, users={USER: PASSWORD}) as running:
        yield running
        assert running.errors == []


def write_config(
    path: Path, fleet: SimulatedFleet, database: str, lease_s: int, workers: int, **alerts: Any
) -> Path:
    """Every host's window 20 minutes from now (UTC), checked 30 minutes before: all are due
    at once when the replicas start; their re-checks and escalations come minutes later."""
    window = (datetime.now(UTC) + timedelta(minutes=20)).strftime("%H:%M")
    servers = []
    for name in fleet.profiles:
        address, port = fleet.address_of(name)
        servers.append(
            {
                "name": name,
                "address": address,
                "port": port,
                "backup_times": [window],
                "timezone": "UTC",
                "lead_time_min": 30,
            }
        )
    config = {
        "defaults": {
            "credential": "reader",
            "connect_timeout_s": 2,
            "operation_timeout_s": 2,
            "read_timeout_s": 4,
            "deadline_s": 10,
        },
        "credentials": {"reader": {"username": USER, "password_env": "WINRM_PASSWORD"}},
        "servers": servers,
        "alerts": {
            "channel": ALERT_CHANNEL,
            "jitter_s": 0,
            "misfire_grace_min": 30,
            # One alert per failing host, not a digest: the tests count alerts per host.
            "digest_threshold": 10_000,
            # fs01 is critical; jp01's warning (800 MB free, 1 GB recommended) stays quiet.
            "min_severity": "critical",
            "lease_s": lease_s,
            "scheduler_workers": workers,
            **alerts,
        },
        # These tests count the checks before windows; surveys would add their own.
        "forecast": {"enabled": False},
        "storage": {"url": database},
        "slack": {"health_port": 0},  # the default port may be taken, and is one per machine
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def free_port() -> int:
    """A TCP port nobody listens on right now, for an HTTP-mode replica."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    """One `backupcheck serve` process; its output goes to a file (a pipe nobody reads while
    the test waits would fill and stall the bot). Socket Mode unless given a signing secret:
    then HTTP mode on a free port of 127.0.0.1, at `url`."""

    def __init__(
        self,
        config: Path,
        stand_in: SlackStandIn,
        workdir: Path,
        name: str,
        *,
        signing_secret: str | None = None,
    ) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._terminated = False
        self._log: IO[str] = self.log_path.open("w", encoding="utf-8")
        environment = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": stand_in.api_url,
            "WINRM_PASSWORD": PASSWORD,
            # A replica that hangs on SIGTERM gets SIGABRT: this dumps every thread's stack.
            "PYTHONFAULTHANDLER": "1",
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
        }
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        arguments = ["serve", "--config", str(config)]
        self.url = ""
        if signing_secret is not None:
            port = free_port()
            environment["SLACK_SIGNING_SECRET"] = signing_secret
            arguments += ["--mode", "http", "--host", "127.0.0.1", "--port", str(port)]
            self.url = f"http://127.0.0.1:{port}/slack/events"
        self.process = subprocess.Popen(
            [str(BACKUPCHECK), *arguments],
            env=environment,
            cwd=workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_listening(self, timeout: float = 30) -> None:
        """Until HTTP mode is listening (or Socket Mode connected)."""
        ready = ("listening for Slack", "connected to Slack")

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.output()}")
            return any(line in self.output() for line in ready)

        wait_until(up, timeout, f"{self.name} ready for Slack")

    def output(self) -> str:
        """Everything it has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def terminate(self) -> None:
        """SIGTERM, once: a second one may land while Python is exiting, whose default
        handlers are back by then, and end the process with -15."""
        if not self._terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self._terminated = True

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for it to exit; returns its exit status."""
        self.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # its threads' stacks go to the log
            self.process.wait(timeout=30)
            message = f"{self.name} did not exit on SIGTERM; see {self.log_path}"
            raise AssertionError(message) from None
        finally:
            self._log.close()

    def ensure_gone(self) -> None:
        """Whatever happened in the test, leave no process behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until condition holds; the deadline, not a count of sleeps, bounds the wait."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not in {timeout:.0f} s: {what}"
        time.sleep(0.05)


Database = str | Engine  # a URL (connected for one query) or an engine the caller keeps


@contextmanager
def _connected(database: Database) -> Iterator[Connection]:
    engine = create_engine(database) if isinstance(database, str) else database
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        if isinstance(database, str):
            engine.dispose()


@contextmanager
def watching(database: str) -> Iterator[Engine]:
    """One engine for the many polls of a wait (a new connection per poll costs a backend)."""
    engine = create_engine(database, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


def settled(database: Database, checks: int) -> bool:
    """Every lead-time check finished and every message it caused is delivered."""
    with _connected(database) as connection:
        done = connection.execute(
            text("SELECT count(*) FROM scheduled_runs WHERE kind = 'check' AND state = 'done'")
        ).scalar_one()
        pending = connection.execute(
            text("SELECT count(*) FROM outbox WHERE state = 'pending'")
        ).scalar_one()
        return bool(done == checks and pending == 0)


def run_states(database: Database) -> dict[str, int]:
    """How many scheduled runs are in each state, per kind (`check:done`, ...)."""
    with _connected(database) as connection:
        rows = connection.execute(
            text("SELECT kind, state, count(*) FROM scheduled_runs GROUP BY kind, state")
        ).all()
        return {f"{kind}:{state}": int(count) for kind, state, count in rows}


def _posted(stand_in: SlackStandIn) -> list[tuple[str, dict[str, Any]]]:
    """(channel, message) of everything posted so far; safe while the bot is still posting."""
    with stand_in.methods.lock:
        return [(channel, dict(message)) for (channel, _), message in stand_in.messages.items()]


def alert_tops(stand_in: SlackStandIn) -> dict[str, dict[str, Any]]:
    """The alert message of each host (as last updated), by the host its text starts with."""
    found = {}
    for channel, message in _posted(stand_in):
        top = message.get("thread_ts") in (None, message["ts"])
        if channel == ALERT_CHANNEL and top and message["text"].startswith("*"):
            found[message["text"].split("*")[1]] = message
    return found


def thread_texts(stand_in: SlackStandIn, ts: str) -> list[str]:
    """The replies in the thread of the message ts, oldest first."""
    replies = [
        m
        for channel, m in _posted(stand_in)
        if channel == ALERT_CHANNEL and m.get("thread_ts") == ts and m["ts"] != ts
    ]
    return [str(m.get("text", "")) for m in sorted(replies, key=lambda m: float(m["ts"]))]


def event_counts(database: Database, kind: str) -> dict[str, int]:
    """Per server: how many audit events of `kind` (acknowledge, escalate, ...) its alerts have."""
    with _connected(database) as connection:
        rows = connection.execute(
            text(
                "SELECT a.server, count(*) FROM alert_events e JOIN alerts a"
                " ON a.id = e.alert_id WHERE e.kind = :kind GROUP BY a.server"
            ),
            {"kind": kind},
        ).all()
        return {str(server): int(count) for server, count in rows}


def alerts_by_host(stand_in: SlackStandIn) -> dict[str, tuple[int, int]]:
    """Per host named at the start of a top-level message: (alert messages, thread replies)."""
    messages = [m for c, m in _posted(stand_in) if c == ALERT_CHANNEL]
    top = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
    replies: dict[str, int] = {}
    for message in messages:
        if message not in top:
            replies[message["thread_ts"]] = replies.get(message["thread_ts"], 0) + 1
    found: dict[str, tuple[int, int]] = {}
    for message in top:
        host = message["text"].split("*")[1] if message["text"].startswith("*") else "?"
        alerts, details = found.get(host, (0, 0))
        found[host] = (alerts + 1, details + replies.get(message["ts"], 0))
    return found
