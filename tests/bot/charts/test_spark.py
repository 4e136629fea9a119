"""The sparkline: each of the last 30 days' lowest free space, one bar a day, gaps kept."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.charts.spark import BARS, GAP, daily_lows, sparkline
from checks.forecast import Observation
from tests.bot.charts.conftest import NOW, TOKYO


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_each_day_is_the_servers_calendar_day_and_keeps_its_lowest_reading() -> None:
    readings = [
        Observation(_at("2026-11-29T14:30:00+00:00"), 100, 70),  # Nov 29, 23:30 in Tokyo
        Observation(_at("2026-11-29T15:30:00+00:00"), 100, 40),  # Nov 30, 00:30 in Tokyo
        Observation(_at("2026-11-29T20:00:00+00:00"), 100, 55),
        Observation(_at("2026-11-27T03:00:00+00:00"), 100, 90),
        Observation(_at("2026-12-01T03:00:00+00:00"), 100, 1),  # after now: not yet
    ]
    assert daily_lows(readings, NOW, TOKYO, days=4) == [90, None, 70, 40]


def test_the_bars_span_the_lowest_to_the_highest_and_a_missing_day_is_a_gap() -> None:
    assert sparkline([800, None, 100, 450]) == f"{BARS[-1]}{GAP}{BARS[0]}{BARS[4]}"
    assert sparkline([5, 5]) == BARS[3] * 2
    assert sparkline([None, None]) == GAP * 2
    assert len(sparkline(daily_lows([], NOW, UTC))) == 30
