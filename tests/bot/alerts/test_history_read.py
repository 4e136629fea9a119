"""A server's last windows read back from the database, with the alert's acknowledgement and the
space freed before each window; read-only from the terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.alerts.history import History
from bot.alerts.history_read import read_window_history, window_history
from bot.alerts.verdict import VerdictKind
from bot.alerts.verify_store import OutcomeStore
from bot.storage.database import open_database
from tests.support.window_history import FIXED, FULL, seed_windows, window_of


def test_the_last_fourteen_windows_with_who_acknowledged_and_the_space_freed(
    database_url: str,
) -> None:
    sessions = open_database(database_url)
    seed_windows(sessions, days=16)
    lines = window_history(OutcomeStore(sessions), History(sessions), "fs01").lines
    assert [line.window_at for line in lines] == [window_of(d, 16) for d in range(15, 1, -1)]
    # Day 15 is a surprise (3), day 14 predicted (2), day 13 fixed (1), day 12 quiet (0).
    surprise, predicted, fixed, quiet = lines[:4]
    assert (surprise.precheck, surprise.verdict.kind, surprise.verdict.hresult) == (
        "ok",
        VerdictKind.FAILED,
        0x800423F4,
    )
    assert (surprise.acknowledged_by, surprise.freed_bytes) == (None, None)
    assert (predicted.precheck, predicted.verdict.hresult) == ("critical", 0x80780119)
    assert (predicted.acknowledged_by, predicted.acknowledged_after) == (
        "U456",
        timedelta(minutes=10),
    )
    assert predicted.freed_bytes is None  # still full at 20:45
    assert (fixed.precheck, fixed.verdict.kind) == ("ok", VerdictKind.SUCCEEDED)  # at 20:45
    assert (fixed.acknowledged_by, fixed.acknowledged_after) == ("U123", timedelta(minutes=25))
    assert fixed.freed_bytes == FIXED - FULL
    assert (quiet.precheck, quiet.acknowledged_by, quiet.freed_bytes) == ("ok", None, None)


def test_a_server_without_verified_windows_has_no_lines(database_url: str) -> None:
    sessions = open_database(database_url)
    seed_windows(sessions, days=2)
    assert window_history(OutcomeStore(sessions), History(sessions), "fs02").lines == []


def test_the_terminal_reads_without_creating_a_database(tmp_path: Path, database_url: str) -> None:
    missing = tmp_path / "nothing-here.db"
    assert read_window_history(f"sqlite:///{missing}", "fs01") is None
    assert not missing.exists()
    seed_windows(open_database(database_url), days=3)
    found = read_window_history(database_url, "fs01")
    assert found is not None
    assert len(found.lines) == 3
