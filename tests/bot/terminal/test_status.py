"""`backupcheck status` through the real command, over a database with two replicas' heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.alerts.heartbeats import HeartbeatStore
from bot.alerts.replicas import Heartbeat
from bot.storage.database import open_database
from bot.storage.models import ScheduledRun
from tests.bot.conftest import Run
from tests.conftest import ENVIRON, inventory_for
from tests.support.fleet import SimulatedFleet

pytestmark = pytest.mark.timeout(60)


def _config(tmp_path: Path, fleet: SimulatedFleet, database_url: str) -> str:
    document = inventory_for(
        fleet, ["fs01"], backup_times=["21:00"], timezone="Asia/Tokyo"
    ).model_dump(mode="json", exclude_none=True)
    document["alerts"] = {"channel": "C123", "jitter_s": 0}
    document["storage"] = {"url": database_url}
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def _row(stdout: str, first: str) -> list[str]:
    """The table row whose first cell starts with `first`, cell by cell."""
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0].startswith(first):
            return cells
    raise AssertionError(f"no row for {first} in:\n{stdout}")


def test_status_shows_the_live_and_the_silent_replica_and_the_next_check(
    run: Run, tmp_path: Path, fleet: SimulatedFleet, database_url: str
) -> None:
    now = datetime.now(UTC)
    sessions = open_database(database_url)
    store = HeartbeatStore(sessions)
    store.beat(Heartbeat("live", "host-a", 10, now - timedelta(hours=1), now))
    silent_since = now - timedelta(minutes=10)
    store.beat(Heartbeat("gone", "host-b", 11, now - timedelta(hours=2), silent_since))
    window = now + timedelta(hours=1)
    with sessions.begin() as session:
        session.add(
            ScheduledRun(
                server="fs01",
                window_at=window,
                kind="check",
                due_at=now,
                state="running",
                started_at=now,
                owner="live",
                lease_until=now + timedelta(minutes=30),
            )
        )
    result = run("status", "-c", _config(tmp_path, fleet, database_url), env=ENVIRON)
    assert result.returncode == 0, result.stderr
    live = _row(result.stdout, "live")
    assert live[1:3] == ["host-a", live[2]]
    assert live[4] == "alive"
    assert live[5].startswith("check of fs01")
    gone = _row(result.stdout, "gone")
    assert gone[4].startswith("silent since")
    assert gone[5] == "nothing"
    assert "Backup windows" in result.stdout  # the next checks
    assert _row(result.stdout, "fs01")[0] == "fs01"


def test_status_without_a_live_replica_or_a_database_exits_1(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = run("status", "-c", _config(tmp_path, fleet, url), env=ENVIRON)
    assert result.returncode == 1
    assert "could not be read" in result.stdout
    assert not (tmp_path / "missing.db").exists()  # reading never creates the file
    url = f"sqlite:///{tmp_path / 'stopped.db'}"
    now = datetime.now(UTC)
    store = HeartbeatStore(open_database(url))
    store.beat(Heartbeat("only", "host-a", 10, now - timedelta(hours=1), now))
    store.stopped("only", now)
    result = run("status", "-c", _config(tmp_path, fleet, url), env=ENVIRON)
    assert result.returncode == 1
    assert "No replica is alive" in result.stdout
    assert _row(result.stdout, "only")[4].startswith("stopped at")
