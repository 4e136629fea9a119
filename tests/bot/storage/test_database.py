"""The schema: migrations apply (twice, harmlessly), constraints hold, commits survive kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from bot.storage.database import make_engine, migrate, open_database
from bot.storage.models import Alert, AlertEvent, Base, CheckResult, OutboxMessage

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=JST)


def _alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "server": "fs01",
        "window_at": NOW + timedelta(hours=1),
        "state": "open",
        "severity": "critical",
        "summary": "D: needs 85 MB more",
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Alert(**fields)


def test_migrations_create_every_table_and_can_run_again(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert {"alerts", "alert_events", "check_results", "outbox", "alembic_version"} <= tables


def test_one_alert_per_server_and_window(database_url: str) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        session.add(_alert())
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(_alert(summary="a second alert for the same window"))
    with sessions.begin() as session:
        session.add(_alert(window_at=NOW + timedelta(days=1, hours=1)))
    with sessions() as session:
        assert session.scalar(select(Alert.id).where(Alert.server == "fs01").limit(1)) is not None
        assert len(session.scalars(select(Alert)).all()) == 2


def test_an_outbox_key_is_used_once(database_url: str) -> None:
    sessions = open_database(database_url)
    message = {
        "method": "chat.postMessage",
        "payload": {"channel": "C1", "text": "x"},
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    with sessions.begin() as session:
        session.add(OutboxMessage(idempotency_key="alert-1/post", **message))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(OutboxMessage(idempotency_key="alert-1/post", **message))
    with sessions() as session:
        (stored,) = session.scalars(select(OutboxMessage)).all()
        assert (stored.state, stored.attempts, stored.payload["text"]) == ("pending", 0, "x")


def test_events_stay_in_order_and_go_with_their_alert(database_url: str) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        alert = _alert()
        alert.events = [
            AlertEvent(at=NOW, kind="checked", actor=None, detail={"status": "critical"}),
            AlertEvent(at=NOW, kind="acknowledged", actor="U123"),
        ]
        session.add(alert)
    with sessions() as session:
        stored = session.scalars(select(Alert)).one()
        assert [e.kind for e in stored.events] == ["checked", "acknowledged"]
        assert stored.events[0].detail == {"status": "critical"}
    with sessions.begin() as session:
        session.delete(session.scalars(select(Alert)).one())
    with sessions() as session:
        assert session.scalars(select(AlertEvent)).all() == []


def test_large_byte_counts_and_time_zones_round_trip(database_url: str) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        session.add(
            CheckResult(
                server="fs01",
                checked_at=NOW,
                host_status="critical",
                volume_id="v",
                volume_name="D:\\",
                status="critical",
                capacity_bytes=2**62,
                free_bytes=246415360,
                required_free_bytes=335544320,
            )
        )
    with sessions() as session:
        row = session.scalars(select(CheckResult)).one()
        assert row.capacity_bytes == 2**62
        assert row.checked_at.astimezone(UTC) == NOW.astimezone(UTC)


WRITER = """
import os, signal, sys
from datetime import datetime, timezone
from bot.storage.database import open_database
from bot.storage.models import Alert
now = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
sessions = open_database(sys.argv[1])
with sessions.begin() as session:
    session.add(Alert(server="fs01", window_at=now, state="open", severity="critical",
                      summary="committed before the kill", created_at=now, updated_at=now))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_commit_survives_kill_9(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WRITER, database_url], check=False, cwd=os.getcwd(), timeout=60
    )
    assert result.returncode == -signal.SIGKILL
    with open_database(database_url)() as session:
        (alert,) = session.scalars(select(Alert)).all()
        assert alert.summary == "committed before the kill"


def test_the_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    with make_engine(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_naive_datetimes_are_refused(database_url: str) -> None:
    sessions = open_database(database_url)
    with pytest.raises(StatementError, match="time-zone-aware"), sessions.begin() as session:
        session.add(_alert(created_at=datetime(2026, 11, 24, 20, 0)))
