"""Snapshot v1: strict validation with one sentence that names the field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.snapshot import MAX_VOLUMES, InvalidSnapshot, Snapshot, parse_snapshot
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


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("volumes", 1, "letter"),
            "D:'; Remove-Item -Recurse -Force C:\\Windows; '",
            "the snapshot is invalid at volumes[1].letter: "
            "\"D:'; Remove-Item -Recurse -Force C:\\\\Wind\"… is not a drive letter such as 'D:'.",
        ),
        (
            ("volumes", 1, "letter"),
            'D:" & calc & "',
            "the snapshot is invalid at volumes[1].letter: "
            "'D:\" & calc & \"' is not a drive letter such as 'D:'.",
        ),
        (
            ("volumes", 1, "name"),
            "D:\\\r\nRemove-Item C:\\",
            "the snapshot is invalid at volumes[1].name: "
            "'D:\\\\\\r\\nRemove-Item C:\\\\' holds a control character.",
        ),
        (
            ("volumes", 1, "id"),
            '\\\\?\\Volume{x" & calc}\\',
            "the snapshot is invalid at volumes[1].id: '\\\\\\\\?\\\\Volume{x\" & calc}\\\\' "
            "is not a volume GUID path such as \\\\?\\Volume{…}\\.",
        ),
        (
            ("host",),
            "FS01\nOK - all fine",
            "the snapshot is invalid at host: 'FS01\\nOK - all fine' holds a control character.",
        ),
        (
            ("volumes", 1, "label"),
            "x" * 257,
            "the snapshot is invalid at volumes[1].label: "
            "String should have at most 256 characters.",
        ),
    ],
)
def test_values_windows_cannot_produce_are_refused_naming_the_field(
    where: tuple[Any, ...], value: str, message: str
) -> None:
    doc = _seed()
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert _reject(doc) == message


def _network(path: str) -> dict[str, Any]:
    doc = _seed()
    doc["backup"]["target"] = {
        "type": "network",
        "volume_id": None,
        "path": path,
        "label": None,
        "capacity_bytes": None,
        "free_bytes": None,
    }
    return doc


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("C:\\Backup", "is not a UNC path such as \\\\server\\share"),
        ("\\\\nas", "is not a UNC path such as \\\\server\\share"),
        ("\\\\nas\\\\x", "is not a UNC path such as \\\\server\\share"),
        ("\\\\nas\\x\r\nrd /s C:\\", "is not a UNC path such as \\\\server\\share"),
        ('\\\\nas\\x" & powershell -c calc & "', "has a share name Windows does not allow"),
        ("\\\\nas\\a|b", "has a share name Windows does not allow"),
        ("\\\\nas x\\share", "has a server name Windows does not allow"),
        ("\\\\nas\\share\\a<b", "has a folder name Windows does not allow"),
    ],
)
def test_a_network_target_must_be_a_unc_path(path: str, problem: str) -> None:
    message = _reject(_network(path))
    assert message.startswith("the snapshot is invalid at backup.target.path: ")
    assert message.endswith(f" {problem}.")


@pytest.mark.parametrize(
    "path",
    [
        "\\\\nas01\\backup$\\APP04",
        "\\\\nas01\\backup$\\APP04\\",
        "\\\\nas01\\R&D\\it's 100%",  # Windows allows these; the tips quote them
        "\\\\ファイル\\バックアップ",
    ],
)
def test_unc_paths_windows_allows_are_accepted(path: str) -> None:
    snapshot = parse_snapshot(json.dumps(_network(path)))
    assert snapshot.backup is not None
    assert snapshot.backup.target.path == path


def test_labels_stay_free_form_and_letters_may_be_empty() -> None:
    doc = _seed()
    doc["volumes"][1]["label"] = "[link=https://evil.example]x[/link]\x1b]0;pwned\x07\nOK"
    doc["volumes"][0]["letter"] = ""
    snapshot = parse_snapshot(json.dumps(doc))
    assert snapshot.volumes[1].label == doc["volumes"][1]["label"]


def test_the_local_collectors_device_ids_are_volume_ids() -> None:
    doc = _seed()
    old = [v["id"] for v in doc["volumes"]]
    new = ["C:\\", "/dev/nvme0n1p2", "rpool/ROOT/ubuntu_x1"]
    text = json.dumps(doc)
    for before, after in zip(old, new, strict=True):
        text = text.replace(json.dumps(before), json.dumps(after))
    assert [v.id for v in parse_snapshot(text).volumes] == new


def test_lists_are_bounded() -> None:
    doc = _seed()
    doc["volumes"] = [
        {**doc["volumes"][0], "id": f"\\\\?\\Volume{{{n}}}\\"} for n in range(MAX_VOLUMES + 1)
    ]
    assert _reject(doc) == (
        "the snapshot is invalid at volumes: "
        f"List should have at most {MAX_VOLUMES} items after validation, not {MAX_VOLUMES + 1}."
    )


def test_a_duplicate_id_among_many_volumes_is_found_in_one_pass() -> None:
    doc = _seed()
    doc["volumes"] = [
        {**doc["volumes"][0], "id": f"\\\\?\\Volume{{{n}}}\\"} for n in range(MAX_VOLUMES)
    ]
    doc["volumes"][-1]["id"] = doc["volumes"][0]["id"]
    doc["backup"] = None
    assert _reject(doc) == (
        f"the snapshot is invalid at volumes[{MAX_VOLUMES - 1}].id: "
        "the volume id '\\\\\\\\?\\\\Volume{0}\\\\' appears twice."
    )


def test_a_copy_with_other_volumes_looks_up_its_own() -> None:
    doc = _seed()
    snapshot = parse_snapshot(json.dumps(doc))
    first = snapshot.volumes[0]
    assert snapshot.volume(first.id) is first
    renamed = first.model_copy(update={"label": "renamed"})
    copy = snapshot.model_copy(update={"volumes": [renamed, *snapshot.volumes[1:]]})
    assert copy.volume(first.id).label == "renamed"
    assert snapshot.volume(first.id).label == first.label
