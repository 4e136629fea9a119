"""The snapshot's last_backup part: optional, bounded, and hostile values refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checks.last_backup import MAX_EVENTS, MAX_JOB_ITEMS, MAX_MESSAGE_CHARS
from checks.snapshot import InvalidSnapshot, parse_snapshot
from tests.conftest import FIXTURES

OUTCOMES = sorted((FIXTURES / "outcomes").glob("*.json"))
EVENT = {"id": 4, "at": "2026-11-24T21:40:00+09:00", "hresult": 0, "detailed_hresult": 0}


def _failed() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "outcomes/failed-vss-space.json").read_text())
    return doc


def _reject(doc: dict[str, Any]) -> str:
    with pytest.raises(InvalidSnapshot) as caught:
        parse_snapshot(json.dumps(doc))
    return str(caught.value)


@pytest.mark.parametrize("path", OUTCOMES, ids=lambda p: p.stem)
def test_every_outcome_fixture_is_valid_and_round_trips(path: Path) -> None:
    snapshot = parse_snapshot(path.read_bytes())
    assert snapshot.last_backup is not None
    assert parse_snapshot(snapshot.to_json()) == snapshot


def test_a_snapshot_without_the_part_is_still_valid() -> None:
    doc = _failed()
    del doc["last_backup"]
    assert parse_snapshot(json.dumps(doc)).last_backup is None


def test_signed_hresults_are_kept_as_windows_shows_them() -> None:
    job = parse_snapshot(json.dumps(_failed())).last_backup.job  # type: ignore[union-attr]
    assert job is not None
    assert (job.hresult, job.detailed_hresult) == (0x80780119, 0x8004231F)
    assert job.items[1].hresult == 0x80780119


def test_times_keep_the_servers_offset() -> None:
    summary = parse_snapshot(json.dumps(_failed())).last_backup.summary  # type: ignore[union-attr]
    assert summary is not None
    assert summary.last_backup_at is not None
    assert summary.last_backup_at.isoformat() == "2026-11-24T21:00:03+09:00"


Edit = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        target = doc["last_backup"]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _set(("job", "hresult"), "0x80780119"),
            "the snapshot is invalid at last_backup.job.hresult: Input should be a valid integer.",
        ),
        (
            _set(("job", "hresult"), 2**32),
            "the snapshot is invalid at last_backup.job.hresult: is not a 32-bit HRESULT.",
        ),
        (
            _set(("summary", "result_hresult"), 1.5),
            "the snapshot is invalid at last_backup.summary.result_hresult: "
            "Input should be a valid integer.",
        ),
        (
            _set(("job", "items", 1, "name"), "D:\x1b[2J"),
            "the snapshot is invalid at last_backup.job.items[1].name: "
            "'D:\\x1b[2J' holds a control character.",
        ),
        (
            _set(("job", "error"), "x" * (MAX_MESSAGE_CHARS + 1)),
            "the snapshot is invalid at last_backup.job.error: "
            "String should have at most 2000 characters.",
        ),
        (
            _set(("summary", "current_operation"), "Backup\u2028InProgress"),
            "the snapshot is invalid at last_backup.summary.current_operation: "
            "'Backup\\u2028InProgress' holds a control character.",
        ),
        (
            _set(("job", "started_at"), "2026-11-24T21:00:03"),
            "the snapshot is invalid at last_backup.job.started_at: "
            "Input should have timezone info.",
        ),
        (
            _set(("job", "items"), [_failed()["last_backup"]["job"]["items"][0]] * 257),
            f"the snapshot is invalid at last_backup.job.items: List should have at most "
            f"{MAX_JOB_ITEMS} items after validation, not 257.",
        ),
        (
            _set(("events",), [{**EVENT, "backup_at": None}] * (MAX_EVENTS + 1)),
            "the snapshot is invalid at last_backup.events: List should have at most "
            f"{MAX_EVENTS} items after validation, not {MAX_EVENTS + 1}.",
        ),
        (
            _set(("events",), [{**EVENT, "id": 70000, "backup_at": None}]),
            "the snapshot is invalid at last_backup.events[0].id: "
            "Input should be less than or equal to 65535.",
        ),
        (
            _set(("job", "exit_code"), 0),
            "the snapshot has an unknown field last_backup.job.exit_code.",
        ),
    ],
    ids=[
        "hex text",
        "too large",
        "a float",
        "escape codes",
        "overlong",
        "line separator",
        "naive time",
        "too many items",
        "too many events",
        "event id",
        "unknown field",
    ],
)
def test_a_hostile_value_is_refused_with_one_sentence_naming_the_field(
    edit: Edit, message: str
) -> None:
    doc = _failed()
    doc["last_backup"]["events"] = []
    edit(doc)
    assert _reject(doc) == message
