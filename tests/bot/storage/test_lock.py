"""One process per SQLite file: the lock refuses a second holder, names the first, and goes
with its process (kill -9 included); other databases and the read-only plan are untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.alerts.schedule.store import read_discovered
from bot.storage.database import open_database
from bot.storage.lock import DatabaseInUse, lock_sqlite, sqlite_file


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///backupcheck.db", Path("backupcheck.db")),
        ("sqlite:////var/lib/backupcheck/bot.db", Path("/var/lib/backupcheck/bot.db")),
        ("sqlite:///file:data/bot.db?uri=true&mode=rwc", Path("data/bot.db")),
        ("sqlite:///file:bot?mode=memory&uri=true", None),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test", None),
    ],
)
def test_the_file_a_url_names(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backupcheck.db'}"
    first = lock_sqlite(url)
    assert first is not None
    assert first.path == tmp_path / "backupcheck.db.lock"
    # flock belongs to an open file, so a second open in this same process is refused too.
    with pytest.raises(DatabaseInUse) as refused:
        lock_sqlite(url)
    assert (refused.value.pid, refused.value.database) == (
        os.getpid(),
        str(tmp_path / "backupcheck.db"),
    )
    first.release()
    again = lock_sqlite(url)
    assert again is not None
    again.release()


def test_a_symlink_to_the_database_finds_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "backupcheck.db").touch()
    (tmp_path / "link.db").symlink_to(tmp_path / "backupcheck.db")
    held = lock_sqlite(f"sqlite:///{tmp_path / 'backupcheck.db'}")
    try:
        with pytest.raises(DatabaseInUse):
            lock_sqlite(f"sqlite:///{tmp_path / 'link.db'}")
    finally:
        assert held is not None
        held.release()


def test_no_lock_for_memory_or_postgresql() -> None:
    assert lock_sqlite("sqlite://") is None
    assert lock_sqlite("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None


HOLDER = """
import os, signal, sys
from bot.storage.lock import lock_sqlite
held = lock_sqlite(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backupcheck.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(DatabaseInUse) as refused:
            lock_sqlite(url)
        assert refused.value.pid == holder.pid
    finally:
        holder.communicate("die\n", timeout=30)
    assert holder.returncode == -signal.SIGKILL
    after_crash = lock_sqlite(url)  # the lock file is still there, and means nothing
    assert after_crash is not None
    after_crash.release()


def test_reading_the_stored_plan_is_not_locked_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backupcheck.db'}"
    open_database(url)
    held = lock_sqlite(url)
    try:
        assert read_discovered(url) == {}  # what `backupcheck windows` reads beside a bot
    finally:
        assert held is not None
        held.release()
