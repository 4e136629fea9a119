"""The HRESULT table: the common Windows Server Backup and VSS codes, in both languages."""

from __future__ import annotations

import pytest

from checks.hresults import KNOWN, describe, explained, fix_key, hresult_hex, meaning_key
from checks.i18n import Catalog, catalog_keys

# The codes admins meet most (issue 14); each must be explained with what to do.
COMMON = [
    0x80780119,
    0x8004231F,
    0x80780081,
    0x807800C5,
    0x80042306,
    0x800423F4,
    0x8078004F,
    0x80070070,
    0x81000019,
]


@pytest.mark.parametrize("code", COMMON, ids=hresult_hex)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_common_code_says_what_it_means_and_what_to_do(
    code: int, lang: str, en: Catalog, ja: Catalog
) -> None:
    catalog = en if lang == "en" else ja
    text = describe(code, catalog)
    assert text.code == hresult_hex(code)
    assert text.meaning == catalog.text(f"hresult.{hresult_hex(code)}")
    assert text.fix is not None
    assert text.fix == catalog.text(f"hresult_fix.{hresult_hex(code)}")
    assert text.meaning != catalog.text("hresult.unknown")


def test_the_catalogs_explain_exactly_the_codes_of_the_table() -> None:
    for lang in ("en", "ja"):
        keys = catalog_keys(lang)
        meanings = {k.removeprefix("hresult.") for k in keys if k.startswith("hresult.")}
        fixes = {k.removeprefix("hresult_fix.") for k in keys if k.startswith("hresult_fix.")}
        table = {hresult_hex(code) for code in KNOWN}
        assert meanings - {"unknown"} == table
        assert fixes == table


def test_every_code_names_its_source() -> None:
    assert all(known.source for known in KNOWN.values())
    assert {hresult_hex(c) for c, k in KNOWN.items() if not k.verified} == {
        "0x80780081",
        "0x8078004F",
        "0x81000019",
    }


@pytest.mark.parametrize("code", [0x80780123, 0x1234, -1], ids=hresult_hex)
def test_an_unknown_code_is_its_hex_and_no_description_known(code: int, en: Catalog) -> None:
    text = describe(code, en)
    assert (text.code, text.meaning, text.fix) == (hresult_hex(code), "no description known", None)
    assert meaning_key(code) is None
    assert fix_key(code) is None


def test_an_unknown_code_in_japanese(ja: Catalog) -> None:
    assert describe(0x80780123, ja).meaning == "説明は登録されていません"


def test_a_code_printed_signed_is_the_same_code() -> None:
    assert hresult_hex(-2139619047) == "0x80780119"
    assert meaning_key(-2139619047) == "hresult.0x80780119"


@pytest.mark.parametrize(
    ("codes", "chosen"),
    [
        ((0x80780000, 0x8004231F), 0x8004231F),  # the detailed code is the one explained
        ((0x80780119, 0x8004231F), 0x80780119),  # both explained: the first
        ((0x80780000, 0x80780001), 0x80780000),  # neither explained: the first
        ((0, None), None),
        ((None, -2139619047), 0x80780119),
    ],
)
def test_the_code_to_show_is_the_first_one_the_table_explains(
    codes: tuple[int | None, ...], chosen: int | None
) -> None:
    assert explained(*codes) == chosen
