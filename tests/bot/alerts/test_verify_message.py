"""The words for a window's verdict, in English and Japanese, with times in the server's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.lifecycle import Alert
from bot.alerts.message import alert_state_line
from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.alerts.verify_message import outcome_line, outcome_reply, outcome_summary
from bot.i18n import catalog
from checks.report import Status

WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
EN, JA = catalog("en"), catalog("ja")
AT_9 = "Nov 24, 2026, 9:00:00\u202fPM JST"


def alert_with(verdict: WindowVerdict, resolved_at: datetime | None = None) -> Alert:
    return Alert(
        "fs01", WINDOW, Status.CRITICAL, (), WINDOW, resolved_at=resolved_at, outcome=verdict
    )


def test_a_success_says_when_it_finished_in_the_servers_zone() -> None:
    # The server reported its end in UTC; people read it in the window's zone.
    ended = datetime(2026, 11, 24, 12, 42, tzinfo=UTC)
    alert = alert_with(WindowVerdict(VerdictKind.SUCCEEDED, WINDOW, ended))
    assert outcome_line(alert, EN) == (
        f"The backup at {AT_9} succeeded (finished Nov 24, 2026, 9:42:00\u202fPM JST)."
    )
    assert outcome_line(alert, JA) == (
        "2026/11/24 21:00:00 JST のバックアップは成功しました (2026/11/24 21:42:00 JST に完了)。"
    )
    assert outcome_summary(alert, EN).startswith("*fs01*: The backup at")


def test_a_failure_gives_the_code_its_meaning_what_to_do_and_the_items() -> None:
    verdict = WindowVerdict(VerdictKind.FAILED, WINDOW, WINDOW, 0x8004231F, ("D:",))
    reply = outcome_reply(alert_with(verdict), EN).split("\n")
    assert reply[0] == (
        f"The backup at {AT_9} failed: 0x8004231F, {EN.text('hresult.0x8004231F')}."
    )
    assert reply[1] == f"What to do: {EN.text('hresult_fix.0x8004231F')}"
    assert reply[2] == "Not backed up: D:."
    ja = outcome_reply(alert_with(verdict), JA).split("\n")
    assert ja[0].endswith(f"失敗しました: 0x8004231F、{JA.text('hresult.0x8004231F')}。")


def test_a_code_the_table_does_not_know_is_shown_as_hex_and_said_so() -> None:
    verdict = WindowVerdict(VerdictKind.FAILED, WINDOW, WINDOW, 0x80071234)
    reply = outcome_reply(alert_with(verdict), EN).split("\n")
    assert reply[0] == (f"The backup at {AT_9} failed: 0x80071234, {EN.text('hresult.unknown')}.")
    assert reply[1] == EN.text("verify.fix_unknown")


@pytest.mark.parametrize(
    ("verdict", "line"),
    [
        (
            WindowVerdict(VerdictKind.STILL_RUNNING, WINDOW, waited=timedelta(hours=6)),
            f"The backup at {AT_9} was still running 6 h later.",
        ),
        (
            WindowVerdict(VerdictKind.UNKNOWN, waited=timedelta(hours=6, minutes=30)),
            f"Whether the backup at {AT_9} ran is not known: the server could not be read "
            "for 6.5 h.",
        ),
        (
            WindowVerdict(VerdictKind.NOT_RUN, next_backup_at=WINDOW + timedelta(days=1)),
            f"No backup ran at {AT_9}.",
        ),
        (
            WindowVerdict(VerdictKind.WARNINGS, WINDOW, WINDOW, None, ("C:", "System State")),
            f"The backup at {AT_9} finished with warnings (finished {AT_9}): "
            "C:, System State not backed up.",
        ),
    ],
)
def test_each_verdict_is_one_sentence(verdict: WindowVerdict, line: str) -> None:
    assert outcome_line(alert_with(verdict), EN) == line


def test_an_alert_closed_by_its_verdict_says_so_under_the_summary() -> None:
    verdict = WindowVerdict(VerdictKind.SUCCEEDED, WINDOW, WINDOW)
    closed = alert_with(verdict, resolved_at=WINDOW + timedelta(minutes=45))
    assert alert_state_line(closed, EN, WINDOW) == (
        "Closed at Nov 24, 2026, 9:45:00\u202fPM JST: the backup was verified."
    )
