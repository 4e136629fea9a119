"""The catalogs: both languages say the same things; numbers read as each language writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LOCALE_DIRECTORIES
from checks.i18n import Catalog, MissingMessage, catalog_keys, placeholders, zone_label
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize("directory", LOCALE_DIRECTORIES, ids=lambda d: d.parent.name)
def test_english_and_japanese_define_the_same_keys_with_the_same_placeholders(
    directory: Path,
) -> None:
    english = catalog_keys("en", [directory])
    japanese = catalog_keys("ja", [directory])
    assert set(english) == set(japanese)
    for key, template in english.items():
        assert placeholders(template) == placeholders(japanese[key]), key


def test_japanese_messages_are_written_in_japanese() -> None:
    japanese = catalog_keys("ja", LOCALE_DIRECTORIES)
    english = catalog_keys("en", LOCALE_DIRECTORIES)
    kana_or_kanji = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    untranslated = [
        key
        for key, text in japanese.items()
        if english[key] == text
        and kana_or_kanji.search(english[key]) is None
        and re.search(r"[a-z]{4,}", text)  # words, not codes, symbols or "OK"
    ]
    assert untranslated == []


@pytest.mark.parametrize(
    ("n_bytes", "round_up", "text"),
    [
        (89128960, True, "85 MB"),
        (85 * MB + 1, True, "86 MB"),
        (85 * MB + 1, False, "85 MB"),
        (1023 * MB, False, "1,023 MB"),
        (GB, False, "1 GB"),
        (31 * GB, False, "31 GB"),
        (1863 * GB, False, "1.8 TB"),
        (int(1.25 * GB), True, "1.3 GB"),
        (int(1.21 * GB), True, "1.3 GB"),
        (0, False, "0 MB"),
    ],
)
def test_sizes_are_binary_and_amounts_to_free_round_up(
    en: Catalog, n_bytes: int, round_up: bool, text: str
) -> None:
    assert en.size(n_bytes, round_up=round_up) == text


def test_dates_read_as_each_language_writes_them(en: Catalog, ja: Catalog) -> None:
    moment = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
    assert en.datetime(moment) == "Nov 24, 2026, 9:00:00\u202fPM (UTC+09:00)"
    assert ja.datetime(moment) == "2026/11/24 21:00:00 (UTC+09:00)"
    assert en.datetime(moment.astimezone(UTC)) == "Nov 24, 2026, 12:00:00\u202fPM UTC"


def test_a_time_shows_in_the_given_zone_with_its_abbreviation(en: Catalog, ja: Catalog) -> None:
    moment = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert en.datetime(moment, "Asia/Tokyo") == "Nov 24, 2026, 9:00:00\u202fPM JST"
    assert ja.datetime(moment, ZoneInfo("Asia/Tokyo")) == "2026/11/24 21:00:00 JST"
    # New York leaves summer time on 2026-11-01: the same wall-clock time, a new abbreviation.
    assert en.datetime(datetime(2026, 10, 31, 1, 0, tzinfo=UTC), "America/New_York") == (
        "Oct 30, 2026, 9:00:00\u202fPM EDT"
    )
    assert en.datetime(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "America/New_York") == (
        "Nov 1, 2026, 9:00:00\u202fPM EST"
    )


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Dubai", "(UTC+04:00)"),  # tzdata has no letters for it: "+04"
        ("America/St_Johns", "NST"),
        ("Asia/Kathmandu", "(UTC+05:45)"),
        ("America/Sao_Paulo", "(UTC-03:00)"),
        (timezone(timedelta(hours=-3, minutes=-30)), "(UTC-03:30)"),  # as a server reported it
        (UTC, "UTC"),
    ],
)
def test_a_zone_without_an_abbreviation_shows_its_offset(zone: str | tzinfo, label: str) -> None:
    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    shown = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    assert zone_label(shown) == label


def test_a_naive_moment_is_taken_as_utc(en: Catalog) -> None:
    assert en.datetime(datetime(2026, 11, 24, 12, 0)) == "Nov 24, 2026, 12:00:00\u202fPM UTC"


def test_numbers_use_the_locale_grouping(ja: Catalog) -> None:
    assert ja.number(1234567.25) == "1,234,567.2"


def test_a_missing_key_is_an_error_that_names_it(en: Catalog) -> None:
    with pytest.raises(MissingMessage, match="no_such_key"):
        en.text("no_such_key")
