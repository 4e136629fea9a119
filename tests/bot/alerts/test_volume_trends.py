"""A check's report gains each volume's trend from the stored history, as the forecast alerts
read it, and a lead-time alert says how fast the volume is draining when it clearly drains."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.alerts.lifecycle import AlertPolicy, on_check
from bot.alerts.message import alert_summary
from bot.alerts.volume_trends import falling_per_day, report_trends, volume_series
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report, VolumeReport
from checks.snapshot import Snapshot
from checks.units import MB

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
NOW = WINDOW - timedelta(hours=1)
HORIZON = timedelta(days=7)
SIX_HOURS = timedelta(hours=6)


@dataclass(frozen=True)
class Stored:
    """A stored reading, as the history gives it."""

    checked_at: datetime
    volume_id: str
    volume_name: str | None
    capacity_bytes: int
    free_bytes: int
    required_free_bytes: int | None


def _report(load_snapshot: Callable[[str], Snapshot], t: Catalog) -> Report:
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})
    return evaluate(seed, NOW, t)


def _volume(report: Report, letter: str) -> VolumeReport:
    return next(v for v in report.volumes if v.letter == letter)


def _history(volume: VolumeReport, per_day: int, days: int = 10) -> list[Stored]:
    """Readings every six hours before the check, ending where the check found the volume."""
    count = days * 4
    return [
        Stored(
            NOW - SIX_HOURS * k,
            volume.id,
            volume.name,
            volume.capacity_bytes,
            volume.free_bytes - per_day * k // 4,
            volume.required_free_bytes,
        )
        for k in range(count, 0, -1)
    ]


def test_a_steady_drain_gives_the_rate_and_when_it_crossed(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    d = _volume(report, "D:")
    trended = report_trends(report, _history(d, -410 * MB), HORIZON)
    trend = _volume(trended, "D:").trend
    assert trend is not None
    assert trend.free_bytes_per_day == -410 * MB
    assert trend.since == NOW - SIX_HOURS * 40
    # D: is below its 320 MB minimum already: the line crossed it at the check.
    assert trend.below_minimum_at == NOW
    assert falling_per_day(trended, d.id) == 410 * MB


def test_a_crossing_ahead_is_dated_within_the_horizon(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    c = _volume(report, "C:")
    assert c.required_free_bytes is not None
    # C: loses 1 GiB a day from what it has now; it reaches its minimum after `days_left` days.
    per_day = 1024 * MB
    trended = report_trends(report, _history(c, -per_day), timedelta(days=3650))
    trend = _volume(trended, "C:").trend
    assert trend is not None
    days_left = (c.free_bytes - c.required_free_bytes) / per_day
    assert trend.below_minimum_at == NOW + timedelta(days=days_left)
    short = report_trends(report, _history(c, -per_day), timedelta(days=days_left - 1))
    short_trend = _volume(short, "C:").trend
    assert short_trend is not None
    assert short_trend.below_minimum_at is None  # beyond the horizon: not known


def test_flat_and_rising_volumes_have_a_trend_but_no_drain(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    d = _volume(report, "D:")
    for per_day, expected in ((0, 0), (200 * MB, 200 * MB)):
        trended = report_trends(report, _history(d, per_day), HORIZON)
        trend = _volume(trended, "D:").trend
        assert trend is not None
        assert trend.free_bytes_per_day == expected
        assert falling_per_day(trended, d.id) is None


def test_too_little_history_gives_no_trend_and_the_report_unchanged(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    d = _volume(report, "D:")
    for history in ([], _history(d, -410 * MB, days=1)):
        assert report_trends(report, history, HORIZON) == report
    assert falling_per_day(report, d.id) is None
    assert falling_per_day(report, None) is None


def test_the_checks_own_figures_count_once_stored_or_not(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    """The history may hold the check itself (a scheduled check stores it first) or not yet
    (a slash command): the trend is the same."""
    report = _report(load_snapshot, en)
    d = _volume(report, "D:")
    earlier = _history(d, -410 * MB)
    stored = [*earlier, Stored(NOW, d.id, d.name, d.capacity_bytes, d.free_bytes, 320 * MB)]
    assert report_trends(report, stored, HORIZON) == report_trends(report, earlier, HORIZON)


def test_only_volumes_rule_2_asks_space_of_are_forecast() -> None:
    at = NOW - SIX_HOURS
    readings = [
        Stored(at, "v-d", "D:\\", 100 * MB, 50 * MB, 32 * MB),
        Stored(at, "v-e", "E:\\", 100 * MB, 50 * MB, None),  # outside the backup
        Stored(at + SIX_HOURS, "v-d", None, 100 * MB, 40 * MB, 32 * MB),
    ]
    (series,) = volume_series(readings)
    assert series.volume_id == "v-d"
    assert series.name == "v-d"  # the latest reading's name, else the id
    assert [o.free_bytes for o in series.history] == [50 * MB, 40 * MB]
    assert series.minimum_bytes == 32 * MB


def test_report_json_gains_trend_only_where_known(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    d = _volume(report, "D:")
    document = json.loads(report_trends(report, _history(d, -410 * MB), HORIZON).to_json())
    assert document["schema"] == 1
    by_letter = {v["letter"]: v for v in document["volumes"]}
    assert "trend" not in by_letter["C:"]
    assert by_letter["D:"]["trend"] == {
        "free_bytes_per_day": -410 * MB,
        "since": (NOW - SIX_HOURS * 40).isoformat(),
        "below_minimum_at": NOW.isoformat(),
        "below_recommended_at": NOW.isoformat(),
    }
    assert Report.model_validate(document) == report_trends(report, _history(d, -410 * MB), HORIZON)
    assert Report.model_validate_json(report.to_json()) == report


def test_the_lead_time_alert_says_how_fast_the_volume_falls(
    load_snapshot: Callable[[str], Snapshot], en: Catalog, ja: Catalog
) -> None:
    for t, phrase in (
        (en, " Free space on D: has been falling 410 MB/day. The backup runs at"),
        (ja, "D: の空き容量は 1 日あたり 410 MB のペースで減り続けています。バックアップは"),
    ):
        report = _report(load_snapshot, t)
        d = _volume(report, "D:")
        trended = report_trends(report, _history(d, -410 * MB), HORIZON)
        alert = on_check(None, trended, WINDOW, NOW, AlertPolicy()).alert
        assert alert is not None
        assert phrase in alert_summary(alert, trended, t)
        # Without a drain the summary is as before.
        flat = report_trends(report, _history(d, 0), HORIZON)
        assert "410" not in alert_summary(alert, flat, t)
        assert alert_summary(alert, flat, t) == alert_summary(alert, report, t)
