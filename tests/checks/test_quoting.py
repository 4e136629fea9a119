"""Quoting host values: a PowerShell literal is one literal; cmd gets only inert words."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from checks.names import (
    has_control,
    is_drive_letter,
    is_mount_folder,
    is_volume_guid_path,
    is_volume_id,
    unc_problem,
)
from checks.quoting import (
    PS_SINGLE_QUOTES,
    Unquotable,
    cmd_quoted_path,
    cmd_word,
    powershell_literal,
)
from tests.checks.powershell_syntax import decode_verbatim, parse

GUID = "\\\\?\\Volume{6f1c0000-0000-0000-0000-00000000000d}\\"
CMD_ACTIVE = set('&|<>^%"!\r\n')
QUOTES_AND_FRIENDS = st.text(alphabet=st.sampled_from([*PS_SINGLE_QUOTES, '"', "$", "`", "a", ";"]))


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("D:\\", "'D:\\'"),
        ("it's", "'it''s'"),
        ("a\u2019b", "'a\u2019\u2019b'"),
        ("\u2018\u201a\u201b", "'\u2018\u2018\u201a\u201a\u201b\u201b'"),
        ('$(calc) `n "x"', "'$(calc) `n \"x\"'"),
    ],
)
def test_powershell_literals_double_every_kind_of_single_quote(value: str, literal: str) -> None:
    assert powershell_literal(value) == literal


@given(st.one_of(st.text(), QUOTES_AND_FRIENDS))
@example("D:'; Remove-Item -Recurse -Force C:\\Windows; '")
@example("\u2019; Remove-Item C:\\Windows; \u2018")
def test_a_powershell_literal_is_one_literal_holding_exactly_the_value(value: str) -> None:
    if has_control(value):
        with pytest.raises(Unquotable):
            powershell_literal(value)
        return
    command = f"Get-ChildItem -LiteralPath {powershell_literal(value)} -Force"
    parsed = parse(command)
    assert parsed.statements == 1
    assert parsed.literals == [value]
    assert parsed.skeleton == "Get-ChildItem -LiteralPath '' -Force"
    assert decode_verbatim(powershell_literal(value)) == value


@pytest.mark.parametrize("value", ["\r", "\n", "\x00", "\x1b", "\x85", "\u2028"])
def test_control_characters_never_reach_a_prompt(value: str) -> None:
    with pytest.raises(Unquotable):
        powershell_literal(f"D:\\{value}")


def test_cmd_gets_drive_letters_and_volume_guid_paths_only() -> None:
    assert cmd_word("D:") == "D:"
    assert cmd_word(GUID) == GUID
    for value in [None, "", "C:\\Mount\\R&D\\", "D:&calc", "\\\\?\\Volume{x&y}\\", "D:\\"]:
        assert cmd_word(value) is None


@given(st.text())
def test_whatever_cmd_receives_holds_nothing_cmd_acts_on(value: str) -> None:
    for word in (cmd_word(value), cmd_quoted_path(value)):
        if word is not None:
            assert word.isascii()
            assert not (set(word.strip('"')) & CMD_ACTIVE)


def test_a_share_path_is_quoted_for_cmd_only_when_plain() -> None:
    assert cmd_quoted_path("\\\\nas01\\backup$\\APP04") == '"\\\\nas01\\backup$\\APP04"'
    assert cmd_quoted_path("\\\\nas01\\Backups 2026\\x") == '"\\\\nas01\\Backups 2026\\x"'
    for path in [
        "\\\\nas\\R&D",
        "\\\\nas\\100%",
        "\\\\nas\\a^b",
        "\\\\nas\\x!y!",
        "\\\\nas\\share\\",  # \" would escape the closing quote for many programs
        "\\\\nas\\\uff02 & calc & \uff02",  # best fit turns U+FF02 into '"'
        "\\\\nas\\バックアップ",
    ]:
        assert cmd_quoted_path(path) is None


def test_windows_names() -> None:
    assert is_drive_letter("d:")
    assert not any(map(is_drive_letter, ["D:\\", "DD:", ""]))
    assert is_volume_guid_path(GUID)
    assert not is_volume_guid_path(GUID[:-1])
    assert all(map(is_volume_id, [GUID, "/dev/sda1", "C:\\", "rpool/ROOT/x"]))
    assert not is_volume_id("a b")
    assert is_mount_folder("C:\\Mount\\Logs\\")
    assert not is_mount_folder("C:\\")
    assert unc_problem("\\\\nas\\share\\sub\\") is None
    assert unc_problem("\\\\nas\\share\\\\sub") is not None
