"""`backupcheck history SERVER`: the last 14 backup windows from the bot's database, in the
server's zone; one sentence and exit code 3 when there is nothing to show."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.storage.database import open_database
from tests.bot.conftest import Run
from tests.support.window_history import seed_windows


def _config(tmp_path: Path, url: str) -> str:
    document = {
        "storage": {"url": url},
        "servers": [
            {
                "name": "fs01",
                "address": "fs01.corp.example",
                "timezone": "Asia/Tokyo",
                "backup_times": ["21:00"],
            },
            {"name": "fs02", "address": "fs02.corp.example", "backup_times": ["21:00"]},
        ],
    }
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def test_the_last_fourteen_windows_newest_first(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    seed_windows(open_database(database_url), days=16)
    result = run("history", "fs01", "-c", _config(tmp_path, database_url))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "fs01: the last 14 backup windows (times in JST)" in out
    rows = [line for line in out.splitlines() if "JST" in line and "│" in line]
    assert len(rows) == 14
    assert "Nov 23, 2026, 9:00:00\u202fPM JST" in rows[0]  # the newest first
    assert "Nov 10, 2026, 9:00:00\u202fPM JST" in rows[-1]
    assert "0x800423F4" in rows[0]  # a surprise: fine at 20:00, the VSS writer failed
    assert "OK" in rows[0]
    for expected in ("0x80780119", "CRITICAL", "U456 after 10 min"):
        assert expected in rows[1]
    for expected in ("succeeded", "U123 after 25 min", "4.8 GB"):
        assert expected in rows[2]


def test_in_japanese(run: Run, tmp_path: Path, database_url: str) -> None:
    seed_windows(open_database(database_url), days=4)
    result = run("history", "fs01", "--lang", "ja", "-c", _config(tmp_path, database_url))
    assert result.returncode == 0, result.stderr
    assert "fs01: 直近 4 回のバックアップ (JST の時刻)" in result.stdout
    assert "U123 (25 分後)" in result.stdout


@pytest.mark.parametrize(
    ("server", "sentence"),
    [
        ("fs02", "There are no verified backup windows for fs02 yet"),
        ("fs1", "unknown server 'fs1'. Did you mean fs01?"),
    ],
)
def test_what_cannot_be_shown_gets_one_sentence_and_exit_3(
    run: Run, tmp_path: Path, database_url: str, server: str, sentence: str
) -> None:
    seed_windows(open_database(database_url), days=2)
    result = run("history", server, "-c", _config(tmp_path, database_url))
    assert result.returncode == 3
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr


def test_without_the_bots_database_it_says_so_and_creates_none(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run("history", "fs01", "-c", _config(tmp_path, f"sqlite:///{missing}"))
    assert result.returncode == 3
    assert "The history database (storage.url) does not exist or cannot be read" in result.stderr
    assert not missing.exists()
