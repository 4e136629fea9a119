"""Snapshots saved on Windows are read as they are; broken JSON is explained in plain words."""

from __future__ import annotations

import codecs

import pytest

from checks.json_text import MAX_DOCUMENT_BYTES
from checks.snapshot import InvalidSnapshot, parse_snapshot
from tests.conftest import FIXTURES

SEED = (FIXTURES / "snapshots" / "seed-incident.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("saved_as", "data"),
    [
        ("UTF-8 with a BOM (Set-Content -Encoding UTF8)", codecs.BOM_UTF8 + SEED.encode()),
        ("UTF-16 LE with a BOM (Out-File, >)", codecs.BOM_UTF16_LE + SEED.encode("utf-16-le")),
        ("UTF-16 BE with a BOM", codecs.BOM_UTF16_BE + SEED.encode("utf-16-be")),
        ("UTF-8 without a BOM", SEED.encode()),
    ],
)
def test_a_snapshot_saved_by_windows_powershell_is_read(saved_as: str, data: bytes) -> None:
    assert parse_snapshot(data) == parse_snapshot(SEED), saved_as


def _reject(document: str | bytes) -> str:
    with pytest.raises(InvalidSnapshot) as caught:
        parse_snapshot(document)
    return str(caught.value)


@pytest.mark.parametrize(
    ("document", "sentence"),
    [
        ("", "the snapshot is empty."),
        (
            '{"schema": 1,}',
            "the snapshot is not valid JSON: at line 1, column 14, a name in double quotes was "
            "expected (JSON allows no comma before a closing brace and no single quotes).",
        ),
        (
            '{\n  "name": "C:\\Windows"\n}',
            "the snapshot is not valid JSON: at line 2, column 14, a backslash starts an unknown "
            "escape (write each \\ of a Windows path as \\\\).",
        ),
        (
            '{"schema": 1',
            "the snapshot is not valid JSON: at line 1, column 13, a comma was expected between "
            "two items.",
        ),
        (
            "[1] [2]",
            "the snapshot is not valid JSON: at line 1, column 5, something follows the end of "
            "the document.",
        ),
    ],
)
def test_broken_json_is_explained_with_its_place_and_a_hint(document: str, sentence: str) -> None:
    assert _reject(document) == sentence


def test_a_file_in_another_encoding_is_refused_with_a_hint() -> None:
    latin1 = '{"host": "Serveur-été"}'.encode("latin-1")
    assert _reject(latin1) == "the snapshot is not valid UTF-8 text (line 1); save it as UTF-8."


def test_a_document_over_the_size_limit_is_refused_before_parsing() -> None:
    assert _reject(b" " * (MAX_DOCUMENT_BYTES + 1)) == "the snapshot is larger than 16 MiB."
