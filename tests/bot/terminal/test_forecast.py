"""`backupcheck forecast --history FILE`: the trend, the first failing window and what to free,
as a table or JSON, from a CSV history; Nagios exit codes; one sentence for bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from checks.i18n import Catalog
from checks.units import GB, MB
from tests.bot.conftest import Run

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=JST)  # a Monday morning in Tokyo
NOW_TEXT = NOW.isoformat()
TOKYO = ("--schedule", "21:00", "--timezone", "Asia/Tokyo")


def _history(path: Path, volumes: dict[str, tuple[int, float, float]], days: int = 14) -> str:
    """A reading every 6 hours: name -> (capacity, free now, change per day)."""
    rows = ["timestamp,volume,capacity_bytes,free_bytes"]
    for k in range(days * 4 + 1):
        at = NOW - timedelta(hours=6 * k)
        for name, (capacity, free, per_day) in volumes.items():
            rows.append(f"{at.isoformat()},{name},{capacity},{round(free - per_day * k / 4)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def history(tmp_path: Path) -> str:
    """fs01 D: loses 400 MB a day from 2.5 GB; C: holds steady at 50 GB."""
    return _history(
        tmp_path / "history.csv",
        {"fs01 D:": (40 * GB, 2.5 * GB, -400 * MB), "fs01 C:": (100 * GB, 50 * GB, 0)},
    )


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text


def _tokyo(en: Catalog, day: int, hour: int) -> str:
    """A time as the table shows it (babel puts a narrow no-break space before PM)."""
    return en.datetime(datetime(2026, 12, day, hour, tzinfo=JST), "Asia/Tokyo")


def test_the_table_shows_the_trend_first_failing_backups_in_the_zone_and_what_to_free(
    run: Run, history: str, en: Catalog
) -> None:
    result = run("forecast", "--history", history, *TOKYO, "--now", NOW_TEXT)
    assert result.returncode == 2, result.stderr
    out = result.stdout
    assert f"Free-space forecast until {_tokyo(en, 7, 9)}" in out
    for column in ("Volume", "Free", "Trend", "First failing backup", "Free at least", "Status"):
        assert column in out
    d_row = next(line for line in out.splitlines() if "fs01 D:" in line)
    assert "falls 400 MB/day" in d_row
    # 2.5 GB − 4.5 days × 400 MB = 760 MB at Friday's 21:00; Sunday's has nothing left.
    assert f"{_tokyo(en, 4, 21)}: below 1 GB (760 MB left)" in d_row
    assert "560 MB" in d_row  # 320 MB − (2,560 MB − 7 × 400 MB)
    assert "CRITICAL" in d_row
    assert f"{_tokyo(en, 6, 21)}: below the minimum (0 MB left)" in out
    c_row = next(line for line in out.splitlines() if "fs01 C:" in line)
    assert "steady" in c_row
    assert "none in the horizon" in c_row
    assert out.index("fs01 D:") < out.index("fs01 C:")  # worst first


def test_json_follows_the_documented_shape(run: Run, history: str) -> None:
    result = run("forecast", "--history", history, *TOKYO, "--now", NOW_TEXT, "--format", "json")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["schema", "now", "horizon_end", "timezone", "windows", "volumes"]
    assert document["schema"] == 1
    assert document["timezone"] == "Asia/Tokyo"
    assert document["now"] == "2026-11-30T09:00:00+09:00"
    assert document["windows"][:2] == ["2026-11-30T21:00:00+09:00", "2026-12-01T21:00:00+09:00"]
    assert len(document["windows"]) == 7
    d, c = document["volumes"]
    assert d["volume"] == "fs01 D:"
    assert (d["state"], d["status"]) == ("forecast", "critical")
    assert d["trend"]["free_bytes_per_day"] == -400 * MB
    assert d["trend"]["free_bytes_now"] == 2.5 * GB
    assert d["first_failing"] == {
        "at": "2026-12-04T21:00:00+09:00",
        "free_bytes": 760 * MB,
        "low_bytes": 760 * MB,
        "high_bytes": 760 * MB,
        "status": "warning",
    }
    assert d["first_critical"]["at"] == "2026-12-06T21:00:00+09:00"
    assert d["first_at_risk"] == d["first_critical"]  # an exact line has no band
    assert d["below_minimum_at"] == "2026-12-05T23:24:00+09:00"
    assert d["bytes_to_free"] == 560 * MB
    assert (d["minimum_bytes"], d["recommended_bytes"]) == (320 * MB, GB)
    assert [w["status"] for w in d["windows"]] == ["ok"] * 4 + ["warning"] * 2 + ["critical"]
    assert (c["status"], c["bytes_to_free"], c["first_failing"]) == ("ok", 0, None)


def test_repeated_windows_and_the_zone_of_the_first_one(run: Run, history: str) -> None:
    result = run(
        "forecast",
        "--history",
        history,
        "--window",
        "2026-12-05T21:00:00+09:00",
        "--window",
        "2026-12-01T21:00:00+09:00",
        "--now",
        NOW_TEXT,
        "-f",
        "json",
    )
    document = json.loads(result.stdout)
    assert document["timezone"] == "+09:00"
    assert document["windows"] == ["2026-12-01T21:00:00+09:00", "2026-12-05T21:00:00+09:00"]
    assert document["volumes"][0]["first_failing"]["at"] == "2026-12-05T21:00:00+09:00"
    assert result.returncode == 1  # 360 MB left: below 1 GB, above 320 MB


def test_without_windows_it_says_when_the_line_falls_below_and_asks_for_windows(
    run: Run, history: str, en: Catalog
) -> None:
    result = run("forecast", "--history", history, "--now", NOW_TEXT, "--timezone", "UTC")
    assert result.returncode == 2, result.stderr
    assert "Falls below" in result.stdout
    # 2,560 MB − 320 MB at 400 MB a day: 5.6 days after Monday 09:00 JST.
    crossing = en.datetime(datetime(2026, 12, 5, 23, 24, tzinfo=JST), "UTC")
    assert f"{crossing}: below 320 MB" in result.stdout
    assert "No backup windows given" in result.stdout


def test_too_little_history_is_unknown_and_says_why(run: Run, tmp_path: Path) -> None:
    short = _history(tmp_path / "short.csv", {"fs01 E:": (100 * GB, 50 * GB, 0)}, days=1)
    result = run("forecast", "--history", short, *TOKYO, "--now", NOW_TEXT)
    assert result.returncode == 3
    assert "not enough history (5 readings over 24 hours)" in result.stdout
    assert "UNKNOWN" in result.stdout


def test_a_clean_up_restarts_the_trend(run: Run, tmp_path: Path, en: Catalog) -> None:
    rows = ["timestamp,volume,capacity_bytes,free_bytes"]
    for k in range(57):
        freed = 10 * GB if k < 20 else 0  # 10 GB freed five days ago
        free = 2 * GB + freed + 100 * MB * k
        rows.append(f"{(NOW - timedelta(hours=6 * k)).isoformat()},D:,{40 * GB},{free}")
    path = tmp_path / "cleanup.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    result = run("forecast", "--history", str(path), *TOKYO, "--now", NOW_TEXT)
    assert result.returncode == 0, result.stdout
    step = en.datetime(datetime(2026, 11, 25, 15, tzinfo=JST), "Asia/Tokyo")
    assert f"falls 400 MB/day, since the step at {step}" in result.stdout


def test_japanese(run: Run, history: str) -> None:
    result = run("forecast", "--history", history, *TOKYO, "--now", NOW_TEXT, "--lang", "ja")
    assert "1 日あたり 400 MB 減少" in result.stdout
    assert "2026/12/04 21:00:00 JST: 1 GB 未満(残り 760 MB)" in result.stdout


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--schedule", "21:00"], "--schedule needs --timezone"),
        (["--schedule", "9pm", "--timezone", "UTC"], "--schedule '9pm' is not a time of day"),
        (["--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus' is not a time zone name"),
        (["--window", "2026-12-01 21:00"], "--window '2026-12-01 21:00' is not an ISO 8601 time"),
        (["--now", "tomorrow"], "--now 'tomorrow' is not an ISO 8601 time"),
    ],
)
def test_bad_options_are_one_sentence_and_exit_3(
    run: Run, history: str, args: list[str], sentence: str
) -> None:
    result = run("forecast", "--history", history, *args)
    assert result.returncode == 3
    assert result.stderr.startswith(f"backupcheck: {sentence}")
    _no_traceback(result.stderr)


def test_a_bad_row_is_one_sentence_and_exit_3(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,volume,capacity_bytes,free_bytes\n2026-11-30T09:00:00+09:00,D:,10,x\n",
        encoding="utf-8",
    )
    result = run("forecast", "--history", str(path))
    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"backupcheck: {path} line 2, field free_bytes: 'x' is not a whole number of bytes."
    )


def test_a_missing_file_and_stdin(run: Run, history: str) -> None:
    missing = run("forecast", "--history", "nowhere.csv")
    assert missing.returncode == 3
    assert missing.stderr.strip() == (
        "backupcheck: cannot read nowhere.csv: No such file or directory."
    )
    piped = run(
        "forecast",
        "--history",
        "-",
        *TOKYO,
        "--now",
        NOW_TEXT,
        "-f",
        "json",
        stdin=Path(history).read_text(encoding="utf-8"),
    )
    assert json.loads(piped.stdout)["volumes"][0]["volume"] == "fs01 D:"
