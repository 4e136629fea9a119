"""`backupcheck serve` processes starting together: on one fresh PostgreSQL schema they all come
up and migrate it once; on one SQLite file the second is refused until the first is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from bot.storage.database import MIGRATION_LOCK_KEY
from tests.bot.conftest import ALERT_CHANNEL, BACKUPCHECK, Run
from tests.conftest import PASSWORD, USER, postgres_schema
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(90)
UP = "scheduled checks are on"
WAITING = "waiting for another process to finish migrating the database"
MIGRATED = "migrated the database from empty to "


class Serve:
    """A `backupcheck serve` process whose output is read as it comes, by a thread of its own."""

    def __init__(self, config: Path, stand_in: SlackStandIn, cwd: Path) -> None:
        environment = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": stand_in.api_url,
            "WINRM_PASSWORD": PASSWORD,
        }
        self.process = subprocess.Popen(
            [str(BACKUPCHECK), "serve", "--config", str(config)],
            env=environment,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def said(self, words: str) -> bool:
        return any(words in line for line in list(self.lines))

    def send(self, how: int = signal.SIGTERM) -> None:
        """Signal it once: a second SIGTERM during its exit would find Python's handler gone."""
        if self.process.poll() is None:
            self.process.send_signal(how)

    def wait(self) -> int:
        """Wait for it to end and for its last words; its exit code."""
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        return code

    def stop(self, how: int = signal.SIGTERM) -> int:
        """Signal it and wait for it; its exit code."""
        self.send(how)
        return self.wait()

    @property
    def output(self) -> str:
        return "".join(self.lines)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not in time: {what}"
        time.sleep(0.05)


def write_config(tmp_path: Path, fleet: SimulatedFleet, database: str) -> Path:
    """Alerts on, with fs01's window hours away: the bots start and have nothing to check yet."""
    window = (datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%M")
    address, port = fleet.address_of("fs01")
    config = {
        "credentials": {"reader": {"username": USER, "password_env": "WINRM_PASSWORD"}},
        "defaults": {"credential": "reader"},
        "servers": [
            {
                "name": "fs01",
                "address": address,
                "port": port,
                "backup_times": [window],
                "timezone": "UTC",
                "lead_time_min": 30,
            }
        ],
        "alerts": {"channel": ALERT_CHANNEL, "jitter_s": 0},
        "storage": {"url": database},
        "slack": {"health_port": 0},  # four bots would ask for one port
    }
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of this test's own."""
    with postgres_schema() as url:
        yield url


@pytest.mark.parametrize("start", ["together", "together again", "behind a held lock"])
def test_four_replicas_on_a_fresh_postgresql_all_start_and_migrate_once(
    start: str,
    stand_in: SlackStandIn,
    evening_fleet: SimulatedFleet,
    fresh_schema: str,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, evening_fleet, fresh_schema)
    engine = create_engine(fresh_schema)
    holder = engine.connect()
    if start == "behind a held lock":
        # Someone else is migrating: every replica must queue up, then the one that gets the
        # lock first migrates and the other three find the schema current.
        holder.execute(
            text("SELECT pg_advisory_lock(:key, hashtext(current_schema()))"),
            {"key": MIGRATION_LOCK_KEY},
        )
    replicas = [Serve(config, stand_in, tmp_path) for _ in range(4)]
    up = time.monotonic()
    try:
        if start == "behind a held lock":
            wait_until(lambda: all(r.said(WAITING) for r in replicas), "all four waiting")
            holder.execute(
                text("SELECT pg_advisory_unlock(:key, hashtext(current_schema()))"),
                {"key": MIGRATION_LOCK_KEY},
            )
        up = time.monotonic()
        wait_until(lambda: all(r.said(UP) for r in replicas), "all four up")
        print(f"all four up {time.monotonic() - up:.1f} s after the start or the lock's release")
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        holder.close()
        for replica in replicas:  # all at once: each takes a few seconds to leave Slack
            replica.send()
        codes = [replica.wait() for replica in replicas]
        engine.dispose()
    outputs = "\n".join(replica.output for replica in replicas)
    assert codes == [0, 0, 0, 0], outputs
    assert sum(replica.said(MIGRATED) for replica in replicas) == 1, outputs
    assert len(versions) == 1
    assert "internal error" not in outputs
    assert "Traceback" not in outputs


def test_a_second_serve_on_one_sqlite_file_is_refused_until_the_first_is_gone(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, tmp_path: Path, run: Run
) -> None:
    database = tmp_path / "backupcheck.db"
    config = write_config(tmp_path, evening_fleet, f"sqlite:///{database}")
    first = Serve(config, stand_in, tmp_path)
    try:
        wait_until(lambda: first.said(UP), "the first bot up")
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": stand_in.api_url,
            "WINRM_PASSWORD": PASSWORD,
        }
        second = run("serve", "--config", str(config), env=env)
        assert second.returncode == 3, second.stderr
        assert second.stderr.splitlines() == [
            f"backupcheck: cannot start: another backupcheck serve (pid {first.process.pid}) uses"
            f" the database {database}; a SQLite file takes one process → stop that one first,"
            " or use PostgreSQL (storage.url) to run several"
        ]
        assert first.process.poll() is None, first.output  # the first one carries on
        windows = run("windows", "--config", str(config), env=env)
        assert windows.returncode == 0, windows.stderr  # reading the plan is not locked out
    finally:
        killed = first.stop(signal.SIGKILL)
    assert killed == -signal.SIGKILL

    # The lock file is still there, but its lock went with the process: a restart is not blocked.
    assert (tmp_path / "backupcheck.db.lock").is_file()
    restarted = Serve(config, stand_in, tmp_path)
    try:
        wait_until(lambda: restarted.said(UP), "the restarted bot up")
    finally:
        code = restarted.stop()
    assert code == 0, restarted.output
