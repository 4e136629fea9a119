"""The weekly summary from plain rows: what ran, what failed and whether the pre-check saw it
coming, the median time to acknowledge, the volumes closest to their floor; and when it is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.summary import (
    Headroom,
    last_moment,
    parse_weekly_at,
    summary_text,
    weekly_summary,
)
from bot.alerts.verdict import VerdictKind, WindowVerdict
from checks.i18n import Catalog
from checks.units import GB, MB

TOKYO = ZoneInfo("Asia/Tokyo")
UNTIL = datetime(2026, 11, 24, 9, 0, tzinfo=TOKYO)  # a Tuesday
SINCE = UNTIL - timedelta(days=7)


@dataclass(frozen=True)
class Row:
    server: str
    precheck: str | None
    verdict: WindowVerdict
    acknowledged_after: timedelta | None = None


def row(kind: VerdictKind, precheck: str = "ok", ack_min: int | None = None) -> Row:
    after = timedelta(minutes=ack_min) if ack_min is not None else None
    return Row("fs01", precheck, WindowVerdict(kind), after)


WEEK_ROWS = [
    row(VerdictKind.SUCCEEDED),
    row(VerdictKind.SUCCEEDED, "critical", ack_min=25),  # warned, fixed, succeeded
    row(VerdictKind.FAILED, "critical", ack_min=10),  # warned, and it failed
    row(VerdictKind.FAILED, "ok"),  # a surprise
    row(VerdictKind.NOT_RUN, "warning", ack_min=40),  # warned (and then the server was off)
    row(VerdictKind.WARNINGS),
    row(VerdictKind.UNKNOWN, None),
]
VOLUMES = [
    Headroom("fs01", "C:", 50 * GB, 320 * MB),
    Headroom("fs01", "D:", 235 * MB, 320 * MB),  # below its floor
    Headroom("fs02", "E:", 2 * GB, 1 * GB),
    Headroom("fs03", "D:", 900 * MB, 320 * MB),
    Headroom("fs04", "F:", 10 * GB, 1 * GB),
    Headroom("fs05", "G:", 20 * GB, 1 * GB),
]


def test_the_weeks_figures() -> None:
    summary = weekly_summary(WEEK_ROWS, VOLUMES, SINCE, UNTIL)
    assert (summary.ran, summary.succeeded, summary.failed) == (6, 2, 2 + 1)
    assert (summary.predicted, summary.unpredicted) == (2, 1)
    assert summary.median_ack == timedelta(minutes=25)
    assert [(v.server, v.volume) for v in summary.closest] == [
        ("fs01", "D:"),
        ("fs03", "D:"),
        ("fs02", "E:"),
        ("fs04", "F:"),
        ("fs05", "G:"),
    ]


def test_a_quiet_week() -> None:
    summary = weekly_summary([row(VerdictKind.SUCCEEDED)], [], SINCE, UNTIL)
    assert (summary.ran, summary.failed, summary.median_ack, summary.closest) == (1, 0, None, ())


def test_the_message_in_english(en: Catalog) -> None:
    text = summary_text(weekly_summary(WEEK_ROWS, VOLUMES[:3], SINCE, UNTIL), TOKYO, en)
    assert text.splitlines() == [
        "*Backups from Nov 17, 2026, 9:00:00\u202fAM JST to Nov 24, 2026, 9:00:00\u202fAM JST*",
        "Backups run: 6; succeeded: 2; failed or missed: 3.",
        "Failures the pre-check warned about: 2; not foreseen: 1.",
        "Median time to acknowledge an alert: 25 min.",
        "Closest to the shadow-copy minimum:",
        "• fs01 D: has 235 MB free, 85 MB *below* the 320 MB minimum",
        "• fs02 E: has 2 GB free, 1 GB above the 1 GB minimum",
        "• fs01 C: has 50 GB free, 49.7 GB above the 320 MB minimum",
    ]


def test_the_message_in_japanese_without_acknowledgements(ja: Catalog) -> None:
    text = summary_text(weekly_summary([row(VerdictKind.SUCCEEDED)], [], SINCE, UNTIL), TOKYO, ja)
    assert "今週確認されたアラートはありません。" in text.splitlines()
    assert "実行されたバックアップ: 1 件、成功: 1 件、失敗または未実行: 0 件。" in text


def test_host_text_makes_no_mention(en: Catalog) -> None:
    summary = weekly_summary([], [Headroom("fs01", "<!channel>", 1 * GB, 0)], SINCE, UNTIL)
    text = summary_text(summary, TOKYO, en)
    assert "<!channel>" not in text
    assert "• fs01 &lt;!channel&gt; has 1 GB free" in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Mon 09:00", (0, time(9, 0))),
        ("sun 23:59", (6, time(23, 59))),
        ("  Fri   07:30 ", (4, time(7, 30))),
        ("Monday 09:00", None),
        ("Mon 9:00", None),
        ("Mon 24:00", None),
        ("", None),
    ],
)
def test_weekly_at(text: str, parsed: tuple[int, time] | None) -> None:
    assert parse_weekly_at(text) == parsed


def test_the_last_weekly_moment_in_the_configured_zone() -> None:
    tuesday = 1
    at = time(9, 0)
    assert last_moment(UNTIL, tuesday, at, TOKYO) == UNTIL
    assert last_moment(UNTIL - timedelta(minutes=1), tuesday, at, TOKYO) == UNTIL - timedelta(
        days=7
    )
    assert last_moment(UNTIL + timedelta(days=3), tuesday, at, TOKYO) == UNTIL
    # Across a change of summer time, the moment stays at 09:00 on the wall clock.
    berlin = ZoneInfo("Europe/Berlin")
    after_change = datetime(2026, 10, 27, 12, 0, tzinfo=berlin)  # a Tuesday, in CET
    moment = last_moment(after_change, tuesday, at, berlin)
    assert (moment.hour, moment.utcoffset()) == (9, timedelta(hours=1))
