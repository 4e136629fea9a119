"""Snapshot v1: strict validation with one sentence that names the field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot
from tests.conftest import SNAPSHOT_FILES


def _seed() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (Path(__file__).parents[1] / "fixtures/snapshots/seed-incident.json").read_text()
    )
    return doc


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.stem)
def test_every_example_snapshot_is_valid_and_round_trips(path: Path) -> None:
    snapshot = parse_snapshot(path.read_bytes())
    assert parse_snapshot(snapshot.to_json()) == snapshot
    assert json.loads(snapshot.to_json())["schema"] == 1


def _reject(doc: dict[str, Any] | str) -> str:
    raw = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(InvalidSnapshot) as caught:
        parse_snapshot(raw)
    return str(caught.value)


def test_a_missing_field_is_named() -> None:
    doc = _seed()
    del doc["volumes"][1]["free_bytes"]
    assert _reject(doc) == "the snapshot is missing the field volumes[1].free_bytes."


def test_a_negative_size_is_rejected() -> None:
    doc = _seed()
    doc["volumes"][0]["capacity_bytes"] = -5
    assert _reject(doc).startswith("the snapshot is invalid at volumes[0].capacity_bytes:")


def test_free_space_larger_than_the_volume_is_rejected() -> None:
    doc = _seed()
    doc["volumes"][2]["free_bytes"] = doc["volumes"][2]["capacity_bytes"] + 1
    message = _reject(doc)
    assert message.startswith("the snapshot is invalid at volumes[2].free_bytes: free space")
    assert "exceeds capacity_bytes" in message


def test_a_target_volume_that_is_not_among_the_volumes_is_rejected() -> None:
    doc = _seed()
    doc["backup"]["target"]["volume_id"] = "\\\\?\\Volume{gone}\\"
    assert _reject(doc) == (
        "the snapshot is invalid at backup.target.volume_id: "
        "'\\\\\\\\?\\\\Volume{gone}\\\\' is not among the volumes."
    )


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("backup", "sources", 1), "backup.sources[1]"),
        (("shadow_storage", 0, "on_volume_id"), "shadow_storage[0].on_volume_id"),
    ],
)
def test_every_volume_reference_must_resolve(path: tuple[Any, ...], where: str) -> None:
    doc = _seed()
    doc["shadow_storage"] = [
        {
            "for_volume_id": doc["volumes"][1]["id"],
            "on_volume_id": doc["volumes"][1]["id"],
            "used_bytes": 0,
            "allocated_bytes": 0,
            "max_bytes": None,
        }
    ]
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "nowhere"
    assert _reject(doc).startswith(f"the snapshot is invalid at {where}: 'nowhere'")


def test_an_unknown_schema_version_is_rejected() -> None:
    doc = _seed()
    doc["schema"] = 2
    assert _reject(doc) == "the snapshot has schema 2, but only schema 1 is supported."


def test_an_unknown_field_is_rejected() -> None:
    doc = _seed()
    doc["volumes"][0]["freebytes"] = 1
    assert _reject(doc) == "the snapshot has an unknown field volumes[0].freebytes."


def test_text_that_is_not_json_is_rejected() -> None:
    assert _reject("not json").startswith("the snapshot is not valid JSON:")


def test_several_problems_are_counted_after_the_first() -> None:
    assert _reject("{}") == "the snapshot is missing the field schema (and 5 more problems)."


def test_hresults_printed_as_signed_integers_are_stored_as_windows_shows_them() -> None:
    doc = _seed()
    doc["backup"]["last_result_hresult"] = -2139619047  # 0x80780119 as PowerShell prints it
    snapshot = parse_snapshot(json.dumps(doc))
    assert snapshot.backup is not None
    assert snapshot.backup.last_result_hresult == 0x80780119


def test_the_json_schema_lists_the_contract_fields() -> None:
    schema = Snapshot.model_json_schema(by_alias=True)
    assert set(schema["required"]) == {
        "schema",
        "host",
        "collected_at",
        "volumes",
        "backup",
        "shadow_storage",
    }
    volume = schema["$defs"]["Volume"]
    assert {"id", "name", "letter", "label", "filesystem", "capacity_bytes", "free_bytes"} <= set(
        volume["required"]
    )
