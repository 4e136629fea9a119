"""Host text made inert: control, bidi and separator characters become visible escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.display import inert_json, visible


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
        ("A\nOK - all fine", "A\\x0aOK - all fine"),
        ("tab\there\r", "tab\\x09here\\x0d"),
        ("del\x7f c1\x85\x9b", "del\\x7f c1\\x85\\x9b"),
        ("\u202eexe.txt", "\\u202eexe.txt"),
        ("\u2066isolated\u2069", "\\u2066isolated\\u2069"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ],
)
def test_unsafe_characters_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize(
    "text", ["C:\\Mount\\Data\\", "\\\\?\\Volume{1b7e}\\", "データ", "[/] [link=x]y[/link]", ""]
)
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert visible(text) == text


UNSAFE = {*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)}
UNSAFE |= set(range(0x2066, 0x206A))


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_no_unsafe_character_survives_and_every_other_one_is_kept(text: str) -> None:
    shown = visible(text)
    assert not {ord(c) for c in shown} & UNSAFE
    # Each unsafe character became exactly one escape: \xNN (4 characters) or \uNNNN (6).
    grown = sum(3 if ord(c) < 0x100 else 5 for c in text if ord(c) in UNSAFE)
    assert len(shown) == len(text) + grown
    if not {ord(c) for c in text} & UNSAFE:
        assert shown == text


def test_a_lone_surrogate_is_escaped_so_that_utf8_output_cannot_fail() -> None:
    assert visible("a\ud800b").encode() == b"a\\ud800b"


@given(st.dictionaries(st.text(), st.text()))
def test_json_stays_the_same_value_without_raw_c1_or_bidi(value: dict[str, str]) -> None:
    document = inert_json(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(document) == value
    assert not {ord(c) for c in document} & (UNSAFE - {0x0A})
