"""`backupcheck check SERVER…` end to end: config file, environment secret, simulated hosts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.alerts.history import History
from bot.storage.database import open_database
from checks.report import Report
from checks.units import MB
from tests.bot.conftest import Run
from tests.conftest import ENVIRON, PASSWORD, inventory_for
from tests.support.fleet import SimulatedFleet


def _config(
    tmp_path: Path,
    fleet: SimulatedFleet,
    names: list[str],
    storage: dict[str, str] | None = None,
    **settings: Any,
) -> str:
    inventory = inventory_for(fleet, names, **settings)
    document = inventory.model_dump(mode="json", exclude_none=True)
    if storage is not None:
        document["storage"] = storage
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def test_check_fs01_over_ntlm_shows_d_critical_with_85_mb(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["fs01"])
    result = run("check", "fs01", "--config", config, env=ENVIRON)
    assert result.returncode == 2, result.stderr
    assert "fs01: volumes" in result.stdout
    assert "Free at least 85 MB on D:." in result.stdout
    assert "fs01 answered as SERVER01" in result.stdout  # the machine's own name differs
    assert result.stdout.strip().splitlines()[-1].startswith("fs01: CRITICAL. D: has 235 MB")
    assert PASSWORD not in result.stdout + result.stderr


def test_check_fs01_over_https_with_basic(
    run: Run, tmp_path: Path, tls_fleet: SimulatedFleet
) -> None:
    config = _config(
        tmp_path, tls_fleet, ["fs01"], transport="basic", ca_bundle=str(tls_fleet.ca_cert_path)
    )
    result = run("check", "fs01", "-c", config, "-f", "json", env=ENVIRON)
    assert result.returncode == 2, result.stderr
    (report,) = [Report.model_validate(r) for r in json.loads(result.stdout)]
    d = next(v for v in report.volumes if v.letter == "D:")
    assert (d.status.value, d.shortfall_bytes) == ("critical", 89128960)


def test_check_all_prints_a_summary_worst_first_and_exits_with_the_worst(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["jp01", "fault-refused", "fs01"])
    result = run("check", "--all", "-c", config, env=ENVIRON)
    assert result.returncode == 2, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    hosts = [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()]
    assert hosts[:3] == ["fs01", "fault-refused", "jp01"]
    assert "connection refused" in result.stdout


def test_json_is_an_array_with_one_report_per_server(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["fs01", "dc01", "fault-http-401"])
    result = run("check", "fs01", "DC01", "fault-http-401", "-c", config, "-f", "json", env=ENVIRON)
    reports = [Report.model_validate(r) for r in json.loads(result.stdout)]
    assert [r.status.value for r in reports] == ["critical", "critical", "unknown"]
    assert (
        reports[2]
        .findings[0]
        .message.startswith(
            "fault-http-401 could not be checked: authentication failed for svc-backupcheck"
        )
    )
    assert result.returncode == 2  # critical outranks unknown, as in Icinga's worst-state order


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fs1", "unknown server 'fs1'. Did you mean fs01?"),
        ("nowhere", "unknown server 'nowhere': it is not in the config's servers."),
        ("fs01;calc", "'fs01;calc' is not a server name"),
    ],
)
def test_an_unknown_name_contacts_no_host(
    run: Run, tmp_path: Path, fleet: SimulatedFleet, name: str, message: str
) -> None:
    config = _config(tmp_path, fleet, ["fs01"])
    before = fleet.http_requests_for("fs01")
    result = run("check", "fs01", name, "-c", config, env=ENVIRON)
    assert result.returncode == 3
    assert message in result.stderr
    assert fleet.http_requests_for("fs01") == before


def test_windows_lists_the_next_backup_and_check_time_soonest_first(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["jp01", "fs01", "fault-refused"])
    result = run("windows", "--refresh", "-c", config, env=ENVIRON)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()][:3] == [
        "fs01",
        "jp01",
        "fault-refused",
    ]
    fs01 = rows[0]
    assert "Nov 24, 2026, 9:00:00" in fs01  # the backup, 21:00 in the server's time zone
    assert "Nov 24, 2026, 8:00:00" in fs01  # the check, the default 60 minutes before


def test_check_adds_the_stored_trend_to_the_table_and_the_json(
    run: Run, tmp_path: Path, fleet: SimulatedFleet, database_url: str
) -> None:
    """With the bot's history (storage.url), D:'s 410 MB a day shows in the table and the
    Report JSON; without it the table and the JSON are as before, and no database is made."""
    config = _config(tmp_path, fleet, ["fs01"], storage={"url": database_url})
    first = run("check", "fs01", "--config", config, "--format", "json", env=ENVIRON)
    (report,) = [Report.model_validate(r) for r in json.loads(first.stdout)]
    assert all(v.trend is None for v in report.volumes)
    history = History(open_database(database_url))
    for k in range(40, 0, -1):
        volumes = [
            v.model_copy(update={"free_bytes": v.free_bytes + 410 * MB * k // 4})
            if v.letter == "D:"
            else v
            for v in report.volumes
        ]
        at = report.checked_at - timedelta(hours=6 * k)
        history.record(report.model_copy(update={"checked_at": at, "volumes": volumes}))
    table = run("check", "fs01", "--config", config, env=ENVIRON)
    assert table.returncode == 2, table.stderr
    assert "Trend" in table.stdout
    d_row = next(line for line in table.stdout.splitlines() if line.startswith("│ D:"))
    assert "falls 410 MB/day" in d_row
    again = run("check", "fs01", "--config", config, "--format", "json", env=ENVIRON)
    (trended,) = [Report.model_validate(r) for r in json.loads(again.stdout)]
    d = next(v for v in trended.volumes if v.letter == "D:")
    assert d.trend is not None
    assert -411 * MB < d.trend.free_bytes_per_day < -409 * MB  # the host's clock moved on


def test_check_without_the_bots_database_shows_no_trend_and_creates_none(
    run: Run, tmp_path: Path, fleet: SimulatedFleet
) -> None:
    missing = tmp_path / "bot.db"
    config = _config(tmp_path, fleet, ["fs01"], storage={"url": f"sqlite:///{missing}"})
    result = run("check", "fs01", "--config", config, env=ENVIRON)
    assert result.returncode == 2, result.stderr
    assert "Trend" not in result.stdout
    assert not missing.exists()
