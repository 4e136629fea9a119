"""The history CSV: rows into observations; a bad row is one sentence naming line and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.terminal.forecast_csv import (
    MAX_HISTORY_BYTES,
    MAX_VOLUME_CHARS,
    HistoryError,
    parse_history,
)
from checks.forecast import Observation
from checks.i18n import Catalog

HEADER = "timestamp,volume,capacity_bytes,free_bytes\n"
JST = timezone(timedelta(hours=9))


def _parse(text: str, t: Catalog) -> dict[str, list[Observation]]:
    return parse_history(text.encode("utf-8"), "h.csv", t)


def test_rows_become_each_volumes_observations_in_file_order(en: Catalog) -> None:
    text = (
        HEADER
        + "2026-11-30T09:00:00+09:00,fs01 D:,1000,400\n"
        + "2026-11-30T00:00:00Z,fs01 C:,2000,1500\n"
        + "\n"
        + '2026-11-29T09:00:00+09:00,"fs01 D:",1000,500\n'
    )
    history = _parse(text, en)
    assert list(history) == ["fs01 D:", "fs01 C:"]
    assert history["fs01 D:"] == [
        Observation(datetime(2026, 11, 30, 9, tzinfo=JST), 1000, 400),
        Observation(datetime(2026, 11, 29, 9, tzinfo=JST), 1000, 500),
    ]
    assert history["fs01 C:"] == [Observation(datetime(2026, 11, 30, tzinfo=UTC), 2000, 1500)]


def test_a_byte_order_mark_and_crlf_as_excel_writes_them_are_fine(en: Catalog) -> None:
    data = ("\ufeff" + HEADER + "2026-11-30T09:00:00+09:00,D:,1000,400\n").replace("\n", "\r\n")
    assert list(parse_history(data.encode("utf-8"), "h.csv", en)) == ["D:"]


@pytest.mark.parametrize(
    ("row", "sentence"),
    [
        (
            "2026-11-30T09:00:00,D:,1000,400",
            "h.csv line 2, field timestamp: '2026-11-30T09:00:00' is not an ISO 8601 time with"
            " its UTC offset, such as 2026-11-30T09:00:00+09:00.",
        ),
        (
            "yesterday,D:,1000,400",
            "h.csv line 2, field timestamp: 'yesterday' is not an ISO 8601 time with its UTC"
            " offset, such as 2026-11-30T09:00:00+09:00.",
        ),
        (
            "2026-11-30T09:00:00Z,D:,1 000,400",
            "h.csv line 2, field capacity_bytes: '1 000' is not a whole number of bytes.",
        ),
        (
            "2026-11-30T09:00:00Z,D:,1000,-4",
            "h.csv line 2, field free_bytes: '-4' is not a whole number of bytes.",
        ),
        (
            "2026-11-30T09:00:00Z,D:,1000,1001",
            "h.csv line 2, field free_bytes: 1001 is more than the capacity, 1000.",
        ),
        (
            "2026-11-30T09:00:00Z,D:,0,0",
            "h.csv line 2, field capacity_bytes: a volume's capacity is more than 0 bytes.",
        ),
        ("2026-11-30T09:00:00Z, ,10,1", "h.csv line 2, field volume: it is empty."),
        (
            "2026-11-30T09:00:00Z,D:,10",
            "h.csv line 2: 3 fields; each row has 4: timestamp,volume,capacity_bytes,free_bytes.",
        ),
        (
            f"2026-11-30T09:00:00Z,{'V' * (MAX_VOLUME_CHARS + 1)},10,1",
            f"h.csv line 2, field volume: it is longer than {MAX_VOLUME_CHARS} characters.",
        ),
    ],
)
def test_a_bad_row_is_one_sentence_naming_its_line_and_field(
    en: Catalog, row: str, sentence: str
) -> None:
    with pytest.raises(HistoryError) as error:
        _parse(HEADER + row + "\n", en)
    assert str(error.value) == sentence


def test_the_line_counts_blank_lines_and_quoted_line_breaks(en: Catalog) -> None:
    text = HEADER + "\n" + '2026-11-30T09:00:00Z,"fs01\nD:",10,1\n' + "bad,D:,10,1\n"
    with pytest.raises(HistoryError, match=r"^h\.csv line 5, field timestamp: 'bad'"):
        _parse(text, en)


def test_a_second_reading_at_the_same_time_names_both_lines(en: Catalog) -> None:
    text = HEADER + "2026-11-30T09:00:00+09:00,D:,10,1\n2026-11-30T00:00:00Z,D:,10,2\n"
    with pytest.raises(HistoryError) as error:
        _parse(text, en)
    assert str(error.value) == (
        "h.csv line 3, field timestamp: D: already has a reading at 2026-11-30T00:00:00Z (line 2)."
    )


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("time,volume,capacity,free\n", "h.csv line 1: the header must be"),
        (HEADER, "h.csv has no readings"),
        ("", "h.csv has no readings"),
    ],
)
def test_a_wrong_header_or_no_rows_is_refused(en: Catalog, text: str, sentence: str) -> None:
    with pytest.raises(HistoryError, match=f"^{sentence}"):
        _parse(text, en)


def test_a_long_bad_value_is_quoted_short(en: Catalog) -> None:
    with pytest.raises(HistoryError) as error:
        _parse(HEADER + f"{'9' * 5000},D:,10,1\n", en)
    assert f"'{'9' * 40}…'" in str(error.value)
    assert len(str(error.value)) < 200


def test_not_utf8_and_too_large_are_refused_before_any_row(en: Catalog) -> None:
    with pytest.raises(HistoryError, match=r"^h\.csv is not UTF-8 text\.$"):
        parse_history(HEADER.encode("utf-8") + b"\xff\xfe,D:,1,1\n", "h.csv", en)
    with pytest.raises(HistoryError, match=r"^h\.csv is larger than 64 MiB"):
        parse_history(b" " * (MAX_HISTORY_BYTES + 1), "h.csv", en)


def test_too_many_rows_are_refused(en: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.terminal.forecast_csv.MAX_HISTORY_ROWS", 3)
    rows = "".join(f"2026-11-30T0{h}:00:00Z,D:,10,1\n" for h in range(4))
    with pytest.raises(HistoryError, match=r"^h\.csv has more than 3 rows"):
        _parse(HEADER + rows, en)
    assert len(_parse(HEADER + rows.split("\n", 1)[1], en)["D:"]) == 3


def test_errors_speak_japanese(ja: Catalog) -> None:
    with pytest.raises(HistoryError) as error:
        _parse(HEADER + "2026-11-30T09:00:00Z,D:,1 000,400\n", ja)
    assert str(error.value).startswith("h.csv の 2 行目、項目 capacity_bytes:")
