"""evaluate(): the one core every caller uses, checked on the seed's incident and every example."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.report import Report, Status
from checks.snapshot import Snapshot, parse_snapshot
from tests.conftest import SNAPSHOT_FILES

Load = Callable[[str], Snapshot]


def test_the_seed_incident_d_is_critical_and_the_tips_say_free_85_mb(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, en)
    by_letter = {v.letter: v for v in report.volumes}
    assert report.status is Status.CRITICAL
    assert by_letter["D:"].status is Status.CRITICAL
    assert by_letter["D:"].required_free_bytes == 335544320
    assert by_letter["D:"].shortfall_bytes == 89128960
    assert by_letter["C:"].status is Status.OK
    assert by_letter["E:"].status is Status.OK
    assert by_letter["E:"].roles == ["destination"]
    assert "Free at least 85 MB on D:" in by_letter["D:"].tips[0].text
    assert "789 MB" in by_letter["D:"].tips[0].text
    (critical,) = [f for f in report.findings if f.severity is Status.CRITICAL]
    assert (
        critical.code,
        critical.required_bytes,
        critical.free_bytes,
        critical.shortfall_bytes,
    ) == ("VSS_MIN_FREE", 335544320, 246415360, 89128960)


def test_the_seed_incident_in_japanese(load_snapshot: Load, now: datetime, ja: Catalog) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, ja)
    d = next(v for v in report.volumes if v.letter == "D:")
    assert d.tips[0].text.startswith("D: で少なくとも 85 MB を空けてください。")
    failed = next(f for f in report.findings if f.code == "LAST_BACKUP_FAILED")
    assert "0x80780119" in failed.message
    assert "シャドウ コピー" in failed.message


def test_the_report_json_has_exactly_the_contract_keys(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, en)
    data = report.model_dump(by_alias=True, mode="json")
    assert set(data) == {
        "schema",
        "host",
        "status",
        "checked_at",
        "next_backup_at",
        "volumes",
        "findings",
    }
    assert set(data["volumes"][0]) == {
        "id",
        "name",
        "letter",
        "label",
        "roles",
        "status",
        "capacity_bytes",
        "free_bytes",
        "required_free_bytes",
        "recommended_free_bytes",
        "shortfall_bytes",
        "tips",
    }
    assert {"severity", "code", "volume_id", "message"} <= set(data["findings"][0])
    assert data["next_backup_at"] == "2026-11-24T21:00:00+09:00"


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_example_evaluates_and_its_report_round_trips(
    path: Path, lang: str, now: datetime, en: Catalog, ja: Catalog
) -> None:
    catalog = en if lang == "en" else ja
    report = evaluate(parse_snapshot(path.read_bytes()), now, catalog)
    assert Report.model_validate_json(report.to_json()) == report
    for volume in report.volumes:
        expected = (
            None
            if volume.required_free_bytes is None
            else max(0, volume.required_free_bytes - volume.free_bytes)
        )
        assert volume.shortfall_bytes == expected


@pytest.mark.parametrize(
    ("name", "status", "codes"),
    [
        ("seed-incident", Status.CRITICAL, ["VSS_MIN_FREE", "LAST_BACKUP_FAILED"]),
        ("system-reserved", Status.CRITICAL, ["VSS_MIN_FREE"]),
        ("shared-diff-area", Status.CRITICAL, ["VSS_MIN_FREE"]),
        ("shadow-limit", Status.CRITICAL, ["SHADOW_STORAGE_LIMIT"]),
        ("network-target", Status.WARNING, ["NETWORK_TARGET_FULL"]),
        (
            "network-space-unknown",
            Status.OK,
            ["COLLECTION_WARNING", "NETWORK_TARGET_SPACE_UNKNOWN"],
        ),
        ("no-policy", Status.WARNING, ["RECOMMENDED_FREE", "NO_BACKUP_POLICY"]),
        ("japanese-labels", Status.WARNING, ["RECOMMENDED_FREE"]),
    ],
)
def test_each_example_reaches_its_verdict(
    load_snapshot: Load, now: datetime, en: Catalog, name: str, status: Status, codes: list[str]
) -> None:
    report = evaluate(load_snapshot(name), now, en)
    assert report.status is status
    assert [f.code for f in report.findings] == codes


def test_a_host_that_could_not_be_checked_is_unknown_with_the_reason(
    now: datetime, en: Catalog
) -> None:
    report = unknown_report("server01", "authentication failed", now, en)
    assert report.status is Status.UNKNOWN
    assert report.status.exit_code == 3
    assert [f.message for f in report.findings] == [
        "server01 could not be checked: authentication failed"
    ]
