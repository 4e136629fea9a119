"""Servers read from snapshot files, through the real `backupcheck`: check, doctor, bad config."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from checks.report import Report
from checks.snapshot import parse_snapshot
from tests.bot.conftest import Run
from tests.conftest import FIXTURES


def snapshot_file(path: Path, age: timedelta) -> str:
    """The incident snapshot (D: at 235 MB) as a scheduled task wrote it `age` ago."""
    at = datetime.now(UTC) - age
    snapshot = parse_snapshot((FIXTURES / "snapshots" / "seed-incident.json").read_bytes())
    path.write_text(snapshot.model_copy(update={"collected_at": at}).to_json(), encoding="utf-8")
    os.utime(path, (at.timestamp(), at.timestamp()))
    return str(path)


def config(tmp_path: Path, servers: list[dict[str, Any]]) -> str:
    path = tmp_path / "backupcheck.yaml"
    path.write_text(yaml.safe_dump({"servers": servers}), encoding="utf-8")
    return str(path)


def test_check_all_reads_each_file_server_and_says_why_one_is_unknown(
    run: Run, tmp_path: Path
) -> None:
    fresh = snapshot_file(tmp_path / "dmz01.json", timedelta(minutes=20))
    stale = snapshot_file(tmp_path / "dmz02.json", timedelta(days=3, minutes=5))
    path = config(
        tmp_path,
        [
            {"name": "dmz01", "snapshot_file": fresh},
            {"name": "dmz02", "snapshot_file": stale},
            {"name": "dmz03", "snapshot_file": str(tmp_path / "missing.json")},
        ],
    )
    result = run("check", "--all", "--config", path, "-f", "json")
    assert result.returncode == 2, result.stderr  # the worst: critical
    reports = {r["host"]: Report.model_validate(r) for r in json.loads(result.stdout)}
    assert reports["dmz01"].status.value == "critical"
    assert reports["dmz01"].findings[0].message.startswith("D: has 235 MB free")
    assert reports["dmz02"].findings[0].message == (
        f"dmz02 could not be checked: the snapshot file {stale} is 3 days old, older than "
        "max_snapshot_age_min allows; the scheduled task on dmz02 may have stopped"
    )
    assert "missing.json does not exist" in reports["dmz03"].findings[0].message

    table = run("check", "--all", "--config", path)
    assert "dmz02" in table.stdout
    assert "3 days old" in table.stdout


def test_a_server_with_both_address_and_snapshot_file_is_a_config_error(
    run: Run, tmp_path: Path
) -> None:
    path = config(
        tmp_path, [{"name": "dmz01", "address": "dmz01.corp.example", "snapshot_file": "x.json"}]
    )
    result = run("check", "--all", "--config", path)
    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "(server dmz01)" in line
    assert "either address: (checked over WinRM) or snapshot_file:" in line


def test_doctor_checks_a_file_server_by_its_file_not_by_dns_or_login(
    run: Run, tmp_path: Path
) -> None:
    fresh = snapshot_file(tmp_path / "dmz01.json", timedelta(minutes=20))
    stale = snapshot_file(tmp_path / "dmz02.json", timedelta(hours=30))
    path = config(
        tmp_path,
        [{"name": "dmz01", "snapshot_file": fresh}, {"name": "dmz02", "snapshot_file": stale}],
    )
    result = run("doctor", "--no-slack", "--config", path)
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert "✓ dmz01: snapshot file: a valid snapshot of SERVER01" in lines
    assert any(line.startswith("✓ dmz01: snapshot age: written 20 min ago") for line in lines)
    (stale_line,) = [line for line in lines if line.startswith("✗ dmz02: snapshot age")]
    assert "is 30 hours old" in stale_line
    assert "schtasks /query /tn backupcheck-probe /v" in stale_line
    assert not any("WinRM port" in line or ": name" in line for line in lines)
