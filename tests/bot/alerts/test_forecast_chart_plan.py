"""Whether a forecast alert's thread gets its chart, which volumes it shows and in what order,
and what each file is called: decided from plain data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.alerts.forecast_chart_plan import (
    MAX_CHARTS,
    ChartState,
    Skip,
    chart_skip,
    charted,
)
from bot.charts.series import VolumeSeries, VolumeTrend, volume_trend, windows_ahead
from bot.config import Config
from checks.forecast import Observation
from checks.inventory import Server
from checks.units import GB, MB
from tests.bot.charts.conftest import NOW, TOKYO

TODAY = date(2026, 11, 30)
DUE = ChartState(
    resolved_at=None, silenced_until=None, in_digest=False, charted_on=None, thread_ts="1.2"
)


def fs01() -> Server:
    settings = Config.model_validate(
        {
            "servers": [
                {
                    "name": "fs01",
                    "address": "fs01.corp.example",
                    "timezone": "Asia/Tokyo",
                    "backup_times": ["21:00"],
                }
            ]
        }
    )
    return settings.resolved()[0]


def trend_of(volume_id: str, name: str) -> VolumeTrend:
    """A volume read every 6 hours for two weeks, losing 400 MB a day."""
    readings = tuple(
        Observation(NOW - timedelta(hours=6 * k), 40 * GB, 2 * GB + 100 * MB * k)
        for k in range(56, -1, -1)
    )
    series = VolumeSeries(volume_id, name, True, 320 * MB, readings)
    server = fs01()
    return volume_trend(server, series, windows_ahead(server, None, NOW, TOKYO), NOW, TOKYO)


def test_an_open_posted_alert_gets_its_chart_once_a_day() -> None:
    assert chart_skip(DUE, NOW, TODAY) is None
    yesterday = ChartState(None, None, False, TODAY - timedelta(days=1), "1.2")
    assert chart_skip(yesterday, NOW, TODAY) is None
    today = ChartState(None, None, False, TODAY, "1.2")
    assert chart_skip(today, NOW, TODAY) is Skip.CHARTED


@pytest.mark.parametrize(
    ("state", "skip"),
    [
        (ChartState(NOW, None, False, None, "1.2"), Skip.RESOLVED),
        (ChartState(None, NOW + timedelta(hours=1), False, None, "1.2"), Skip.SILENCED),
        (ChartState(None, None, True, None, "1.2"), Skip.DIGEST),
        (ChartState(None, None, False, None, None), Skip.NOT_POSTED),
    ],
)
def test_a_resolved_silenced_digested_or_unposted_alert_gets_none(
    state: ChartState, skip: Skip
) -> None:
    assert chart_skip(state, NOW, TODAY) is skip


def test_a_silence_that_ended_no_longer_holds_the_chart_back() -> None:
    ended = ChartState(None, NOW - timedelta(minutes=1), False, None, "1.2")
    assert chart_skip(ended, NOW, TODAY) is None


def test_the_volumes_at_risk_are_charted_soonest_window_first_each_marking_its_window() -> None:
    trends = [trend_of("c", "C:\\"), trend_of("d", "D:\\"), trend_of("e", "E:\\")]
    thursday, wednesday = NOW + timedelta(days=3, hours=12), NOW + timedelta(days=2, hours=12)
    chosen = charted(trends, {"d": thursday, "e": wednesday})
    assert [(t.series.label, t.highlight) for t in chosen] == [("E:", wednesday), ("D:", thursday)]
    assert all(t.highlight is None for t in trends)  # the caller's trends are left as they were


def test_at_most_four_charts_go_in_one_thread() -> None:
    trends = [trend_of(f"v{n}", f"{letter}:\\") for n, letter in enumerate("DEFGHI")]
    at_risk = {t.series.volume_id: NOW + timedelta(days=2) for t in trends}
    chosen = charted(trends, at_risk)
    assert len(chosen) == MAX_CHARTS
    assert [t.series.label for t in chosen] == ["D:", "E:", "F:", "G:"]
