"""A server's history lines from plain rows: the newest 14 windows, the space freed before each,
and the words the terminal and Slack both show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.alerts.history_lines import freed_between, history_lines, line_text, outcome_text
from bot.alerts.verdict import VerdictKind, WindowVerdict
from checks.i18n import Catalog
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))
TOKYO = ZoneInfo("Asia/Tokyo")
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
DAY = timedelta(days=1)
OK = WindowVerdict(VerdictKind.SUCCEEDED, WINDOW, WINDOW + timedelta(minutes=40))


@dataclass(frozen=True)
class Row:
    window_at: datetime
    precheck: str | None
    verdict: WindowVerdict
    acknowledged_by: str | None = None
    acknowledged_after: timedelta | None = None


@dataclass(frozen=True)
class Read:
    checked_at: datetime
    volume_id: str
    free_bytes: int


def evening(window: datetime, d_free: tuple[int, ...]) -> list[Read]:
    """C: steady at 50 GB, D: at each given free space, from 20:00 every 15 minutes."""
    start = window - timedelta(hours=1)
    return [
        read
        for n, free in enumerate(d_free)
        for read in (
            Read(start + n * timedelta(minutes=15), "v-c", 50 * GB),
            Read(start + n * timedelta(minutes=15), "v-d", free),
        )
    ]


def test_the_newest_fourteen_windows_newest_first() -> None:
    rows = [Row(WINDOW - n * DAY, "ok", OK) for n in range(20)]
    lines = history_lines(rows[::-1], [])
    assert [line.window_at for line in lines] == [WINDOW - n * DAY for n in range(14)]


def test_the_space_freed_between_the_window_before_and_this_one() -> None:
    rows = [Row(WINDOW - DAY, "ok", OK), Row(WINDOW, "critical", OK, "U123", timedelta(minutes=25))]
    readings = [
        *evening(WINDOW - DAY, (5 * GB, 4 * GB)),  # shrank: nothing freed that evening
        *evening(WINDOW, (235 * MB, 235 * MB, 5 * GB)),
        Read(WINDOW + timedelta(minutes=30), "v-d", 1 * MB),  # after the window: not counted
    ]
    today, yesterday = history_lines(rows, readings)
    assert today.freed_bytes == 5 * GB - 235 * MB
    assert yesterday.freed_bytes is None


def test_space_freed_on_one_volume_and_lost_on_another_is_the_net() -> None:
    readings = [
        Read(WINDOW - timedelta(hours=2), "v-c", 10 * GB),
        Read(WINDOW - timedelta(hours=2), "v-d", 1 * GB),
        Read(WINDOW - timedelta(hours=1), "v-c", 9 * GB),
        Read(WINDOW - timedelta(hours=1), "v-d", 4 * GB),
    ]
    assert freed_between(readings, WINDOW - DAY, WINDOW) == 2 * GB
    assert freed_between(readings[:2], WINDOW - DAY, WINDOW) == 0  # one reading each


def test_a_line_in_english_with_the_server_zone_and_who_acknowledged(en: Catalog) -> None:
    failed = WindowVerdict(VerdictKind.FAILED, WINDOW, WINDOW, 0x80780119)
    row = Row(WINDOW, "critical", failed, "U456", timedelta(minutes=10, seconds=20))
    readings = evening(WINDOW, (235 * MB, 1 * GB))
    (line,) = history_lines([row], readings)
    cells = line_text(line, TOKYO, en)
    assert cells.window == "Nov 24, 2026, 9:00:00\u202fPM JST"
    assert cells.precheck == "CRITICAL"
    assert cells.outcome == (
        "failed: 0x80780119, there is not enough disk space to create the volume shadow copy "
        "on a backed-up volume"
    )
    assert cells.acknowledged == "U456 after 10 min"
    assert cells.freed == "789 MB"
    assert line_text(line, TOKYO, en, who="<@U456>").acknowledged == "<@U456> after 10 min"


def test_a_line_without_a_pre_check_acknowledgement_or_fix(en: Catalog) -> None:
    (line,) = history_lines([Row(WINDOW, None, OK)], [])
    cells = line_text(line, ZoneInfo("UTC"), en)
    assert cells.window == "Nov 24, 2026, 12:00:00\u202fPM UTC"
    assert (cells.precheck, cells.outcome, cells.acknowledged, cells.freed) == (
        "—",
        "succeeded",
        "—",
        "—",
    )


def test_every_outcome_has_its_words_in_both_languages(en: Catalog, ja: Catalog) -> None:
    for kind in VerdictKind:
        for t in (en, ja):
            assert not outcome_text(WindowVerdict(kind), t).startswith("history.")
    assert outcome_text(WindowVerdict(VerdictKind.NOT_RUN), ja) == "実行されず"
    unknown_code = WindowVerdict(VerdictKind.FAILED, hresult=0x80070005)
    assert outcome_text(unknown_code, en).startswith("failed: 0x80070005, ")
