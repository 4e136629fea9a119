"""`backupcheck trend SERVER [VOLUME]`: the bot's stored history, read back as the forecast per
volume and a 30-day sparkline, and with --png the chart Slack shows; one sentence otherwise."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.charts.draw import HEIGHT_PX, WIDTH_PX
from bot.charts.spark import BARS, GAP
from bot.storage.database import open_database
from bot.storage.models import CheckResult
from checks.units import GB, MB
from tests.bot.conftest import Run

# Minutes are enough: the history ends now, wherever in the day the test runs.
DAYS = 20


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
            {"name": "fs02", "address": "fs02.corp.example"},
        ],
    }
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def _store(url: str) -> None:
    """fs01: D: loses 1 GB a day and has 2 GB left; C: holds 50 GB steadily."""
    sessions = open_database(url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        for k in range(DAYS * 4, -1, -1):
            at = now - timedelta(hours=6 * k)
            for volume, name, free in (
                ("v-d", "D:\\", 2 * GB + GB * k // 4),
                ("v-c", "C:\\", 50 * GB),
            ):
                session.add(
                    CheckResult(
                        server="fs01",
                        checked_at=at,
                        host_status="ok",
                        volume_id=volume,
                        volume_name=name,
                        status="ok",
                        capacity_bytes=100 * GB,
                        free_bytes=free,
                        required_free_bytes=320 * MB,
                    )
                )


def test_the_forecast_and_sparkline_of_every_volume_worst_first(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    _store(database_url)
    result = run("trend", "fs01", "-c", _config(tmp_path, database_url))
    assert result.returncode == 2, result.stderr  # D: falls below the minimum this week
    out = result.stdout
    assert "fs01: free-space trend until" in out
    assert "JST" in out
    d_row = next(line for line in out.splitlines() if "D:" in line and "│" in line)
    assert "falls 1 GB/day" in d_row
    assert "CRITICAL" in out
    assert "below the minimum" in out
    c_row = next(line for line in out.splitlines() if "C:" in line and "│" in line)
    assert out.index(d_row) < out.index(c_row)  # worst first
    assert "steady" in c_row
    spark = next(line for line in out.splitlines() if line.startswith("D: over the last 30"))
    bars, low, high = re.fullmatch(r".*: (\S+)  (.+) to (.+)", spark).groups()  # type: ignore[union-attr]
    assert len(bars) == 30
    assert bars.startswith(GAP * (30 - DAYS - 1))  # no readings before the history began
    assert bars.endswith(BARS[0])
    assert BARS[-1] in bars
    assert low == "2 GB"
    assert 21 * GB <= float(high.removesuffix(" GB")) * GB <= 22 * GB


def test_png_writes_the_volumes_chart(run: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    _store(url)
    target = tmp_path / "d.png"
    result = run("trend", "fs01", "d:", "--png", str(target), "-c", _config(tmp_path, url))
    assert result.returncode == 2, result.stderr
    assert f"Chart of D: written to {target}." in result.stderr
    image = Image.open(io.BytesIO(target.read_bytes()))
    assert (image.format, image.size) == ("PNG", (WIDTH_PX, HEIGHT_PX))
    assert "C:" not in result.stdout


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("fs01", "X:"), "fs01 has no volume 'X:' in its history; it has C:, D:."),
        (("fs02",), "There is no stored history for fs02 in the last 30 days"),
        (("fs01", "--png", "all.png"), "fs01 has 2 volumes in its history (C:, D:): name one"),
        (("fs09",), "unknown server 'fs09'"),
    ],
)
def test_what_cannot_be_shown_gets_one_sentence_and_exit_3(
    run: Run, tmp_path: Path, args: tuple[str, ...], sentence: str
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    _store(url)
    result = run("trend", *args, "-c", _config(tmp_path, url))
    assert result.returncode == 3
    assert result.stdout == ""
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "all.png").exists()


def test_without_the_bots_database_it_says_so_and_creates_none(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run("trend", "fs01", "-c", _config(tmp_path, f"sqlite:///{missing}"))
    assert result.returncode == 3
    assert "The history database (storage.url) does not exist or cannot be read" in result.stderr
    assert not missing.exists()
