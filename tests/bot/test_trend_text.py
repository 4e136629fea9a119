"""A volume's stored trend in words: its rate per day and the first threshold it falls below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.trend_text import per_day, trend_text
from checks.i18n import Catalog
from checks.report import Status, VolumeReport, VolumeTrend
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def _volume(trend: VolumeTrend | None) -> VolumeReport:
    return VolumeReport(
        id="v-d",
        name="D:\\",
        letter="D:",
        label=None,
        roles=[],
        status=Status.OK,
        capacity_bytes=40 * GB,
        free_bytes=2 * GB,
        required_free_bytes=320 * MB,
        recommended_free_bytes=1 * GB,
        shortfall_bytes=0,
        tips=[],
        trend=trend,
    )


def _trend(rate: int, minimum: datetime | None, recommended: datetime | None) -> VolumeTrend:
    return VolumeTrend(
        free_bytes_per_day=rate,
        since=NOW - timedelta(days=14),
        below_minimum_at=minimum,
        below_recommended_at=recommended,
    )


def test_rates_read_as_falls_rises_or_steady(en: Catalog, ja: Catalog) -> None:
    assert per_day(-410 * MB, en) == "falls 410 MB/day"
    assert per_day(200 * MB, en) == "rises 200 MB/day"
    assert per_day(MB - 1, en) == "steady"
    assert per_day(-410 * MB, ja) == "1 日あたり 410 MB 減少"


def test_the_first_threshold_crossed_is_named_in_the_zone_asked(en: Catalog) -> None:
    crossing = NOW + timedelta(days=3)
    earlier = NOW + timedelta(days=1)
    both = _volume(_trend(-410 * MB, crossing, earlier))
    assert trend_text(both, en, JST) == (
        "falls 410 MB/day, " + en.datetime(crossing, JST) + ": below 320 MB"
    )
    only_recommended = _volume(_trend(-410 * MB, None, earlier))
    assert trend_text(only_recommended, en, JST) == (
        "falls 410 MB/day, " + en.datetime(earlier, JST) + ": below 1 GB"
    )
    assert trend_text(_volume(_trend(0, None, None)), en) == "steady"
    assert trend_text(_volume(None), en) is None
