"""`backupcheck windows`: the config and the stored plan, no server contacted unless --refresh."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from bot.alerts.schedule.plan import jitter_for
from bot.alerts.schedule.store import ScheduleStore
from bot.config import Config
from bot.storage.database import open_database
from bot.terminal.windows import show_windows
from checks.i18n import Catalog
from tests.bot.conftest import Run
from tests.conftest import ENVIRON, inventory_for
from tests.support.fleet import SimulatedFleet

JST = timezone(timedelta(hours=9))


def _config(tmp_path: Path, fleet: SimulatedFleet, names: list[str], **per_server: Any) -> str:
    document = inventory_for(fleet, names).model_dump(mode="json", exclude_none=True)
    for entry in document["servers"]:
        entry.update(per_server.get(entry["name"], {}))
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by server: each cell's text, without the table's borders."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("│ "):
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            if cells[0]:
                rows[cells[0]] = cells
    return rows


def test_configured_times_are_shown_in_the_servers_zone_and_no_server_is_contacted(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(
        tmp_path,
        fleet,
        ["fs01", "jp01"],
        fs01={"timezone": "America/New_York", "backup_times": ["21:00"]},
    )
    before = {name: fleet.http_requests_for(name) for name in ("fs01", "jp01")}
    result = run("windows", "-c", config, env=ENVIRON)
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    _, backup, check, note = rows["fs01"]
    assert re.fullmatch(r"\w{3} \d{1,2}, \d{4}, 9:00:00\u202fPM E[SD]T", backup), backup
    assert re.fullmatch(r"\w{3} \d{1,2}, \d{4}, 8:00:00\u202fPM E[SD]T", check), check
    assert note == "backup_times in the config"
    assert rows["jp01"][1:] == [
        "not known",
        "—",
        "unknown until checked: run `backupcheck windows --refresh`",
    ]
    assert "once alerts.channel is set" in result.stdout  # nothing is scheduled without it
    assert {name: fleet.http_requests_for(name) for name in ("fs01", "jp01")} == before


def test_the_stored_plan_gives_the_servers_own_schedule_without_contacting_it(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["jp01"], jp01={"timezone": "Asia/Tokyo"})
    # The bot's default database, relative to where it runs (the test runs in tmp_path).
    sessions = open_database(f"sqlite:///{tmp_path / 'backupcheck.db'}")
    asked = datetime(2030, 1, 15, 3, 0, tzinfo=UTC)
    ScheduleStore(sessions).remember("jp01", datetime(2030, 1, 15, 21, 0, tzinfo=JST), asked)
    before = fleet.http_requests_for("jp01")
    result = run("windows", "-c", config, env=ENVIRON)
    assert result.returncode == 0, result.stderr
    assert _rows(result.stdout)["jp01"][1:3] == [
        "Jan 15, 2030, 9:00:00\u202fPM JST",
        "Jan 15, 2030, 8:00:00\u202fPM JST",
    ]
    assert "the server's own schedule, as read Jan 15, 2030, 12:00:00\u202fPM JST" in (
        re.sub(r"\s*│\s*", " ", result.stdout)  # the note may wrap inside its cell
    )
    assert fleet.http_requests_for("jp01") == before


def test_refresh_asks_every_server_and_labels_what_it_reported(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["jp01", "fault-refused"])
    before = fleet.http_requests_for("jp01")
    result = run("windows", "--refresh", "-c", config, env=ENVIRON)
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    # jp01 reports its next run with an offset (+09:00), and no zone is configured for it.
    assert rows["jp01"][1].endswith("(UTC+09:00)")
    assert rows["jp01"][3].startswith("the server's own schedule, as read")
    assert rows["fault-refused"][1] == "not known"
    assert "connection refused" in rows["fault-refused"][3]
    assert fleet.http_requests_for("jp01") > before


def _show(settings: Config, now: datetime, t: Catalog) -> dict[str, list[str]]:
    console = Console(record=True, width=160, color_system=None)
    show_windows(settings, settings.resolved(), t, console, now=now)
    return _rows(console.export_text())


@pytest.mark.parametrize(
    ("now", "backup", "check"),
    [
        # New York's summer time ends at 02:00 on 2026-11-01: the same 21:00, another label.
        (
            datetime(2026, 10, 31, 12, 0, tzinfo=UTC),
            "Oct 31, 2026, 9:00:00 PM EDT",
            "7:30:00 PM EDT",
        ),
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "Nov 1, 2026, 9:00:00 PM EST", "7:30:00 PM EST"),
    ],
)
def test_labels_follow_the_servers_daylight_saving_time(
    now: datetime, backup: str, check: str, en: Catalog
) -> None:
    settings = Config.model_validate(
        {
            "servers": [
                {
                    "name": "nyc01",
                    "address": "192.0.2.1",
                    "timezone": "America/New_York",
                    "backup_times": ["21:00"],
                    "lead_time_min": 90,
                }
            ]
        }
    )
    _, shown_backup, shown_check, _ = _show(settings, now, en)["nyc01"]
    assert shown_backup.replace("\u202f", " ") == backup
    assert shown_check.replace("\u202f", " ").endswith(check)


def test_a_check_before_the_change_is_labelled_in_the_time_it_runs_in(en: Catalog) -> None:
    settings = Config.model_validate(
        {
            "servers": [
                {
                    "name": "nyc01",
                    "address": "192.0.2.1",
                    "timezone": "America/New_York",
                    "backup_times": ["03:00"],
                    "lead_time_min": 150,
                }
            ]
        }
    )
    _, backup, check, _ = _show(settings, datetime(2026, 11, 1, 0, 0, tzinfo=UTC), en)["nyc01"]
    # 2.5 hours before 03:00 EST is 01:30 EDT, the first of that night's two 01:30s.
    assert backup.replace("\u202f", " ") == "Nov 1, 2026, 3:00:00 AM EST"
    assert check.replace("\u202f", " ") == "Nov 1, 2026, 1:30:00 AM EDT"


def test_with_alerts_on_the_check_time_is_the_schedulers_with_its_jitter(en: Catalog) -> None:
    server = {
        "name": "tokyo01",
        "address": "192.0.2.1",
        "timezone": "Asia/Tokyo",
        "backup_times": ["21:00"],
    }
    alerts_on = Config.model_validate({"servers": [server], "alerts": {"channel": "C0123"}})
    row = _show(alerts_on, datetime(2026, 11, 24, 0, 0, tzinfo=UTC), en)["tokyo01"]
    jitter = jitter_for("tokyo01", timedelta(seconds=120))
    assert jitter > timedelta(0)
    expected = datetime(2026, 11, 24, 20, 0, tzinfo=JST) - jitter
    assert row[2] == en.datetime(expected, "Asia/Tokyo")
