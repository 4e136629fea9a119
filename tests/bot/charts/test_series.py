"""A server's stored readings become one series per volume, the backup windows ahead are the
configured ones (or the server's own run, daily), and the forecast is the forecaster's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.charts.series import (
    VolumeSeries,
    pick_volumes,
    volume_series,
    volume_trend,
    windows_ahead,
    worst_first,
)
from bot.config import Config
from checks.forecast import forecast_volume
from checks.inventory import Server
from checks.units import GB, MB
from tests.bot.charts.conftest import NOW, TOKYO, Drain


@dataclass(frozen=True)
class Row:
    checked_at: datetime
    volume_id: str
    volume_name: str | None
    status: str
    capacity_bytes: int
    free_bytes: int
    required_free_bytes: int | None


def _row(hours: int, volume: str, free: int, status: str = "ok", name: str | None = None) -> Row:
    at = NOW - timedelta(hours=hours)
    return Row(at, volume, name, status, 40 * GB, free, 320 * MB if status != "info" else None)


def test_readings_are_grouped_per_volume_oldest_first_with_the_latest_name_and_demand() -> None:
    rows = [
        _row(1, "v-d", 2 * GB, name="D:\\"),
        _row(30, "v-c", 9 * GB, name="C:\\"),
        _row(20, "v-d", 3 * GB, name="Data"),
        _row(5, "v-r", 400 * MB, status="info", name=None),
    ]
    found = volume_series(rows)
    assert [(s.volume_id, s.name, s.in_backup) for s in found] == [
        ("v-c", "C:\\", True),
        ("v-d", "D:\\", True),
        ("v-r", "v-r", False),
    ]
    d = found[1]
    assert [o.free_bytes for o in d.observations] == [3 * GB, 2 * GB]
    assert d.minimum_bytes == 320 * MB
    assert found[2].minimum_bytes is None


def test_a_volume_is_asked_for_as_people_type_it_and_without_one_the_backups_volumes_come() -> None:
    found = volume_series(
        [
            _row(1, "v-c", 9 * GB, name="C:\\"),
            _row(1, "v-d", 2 * GB, name="D:\\"),
            _row(1, "v-r", GB, status="info", name="R:\\"),
        ]
    )
    for typed in ("D:", "d", "D:\\", "d:", "v-d"):
        assert [s.volume_id for s in pick_volumes(found, typed)] == ["v-d"], typed
    assert pick_volumes(found, "X:") == []
    assert [s.volume_id for s in pick_volumes(found, None)] == ["v-c", "v-d"]
    assert [s.volume_id for s in pick_volumes(found, "R")] == ["v-r"]  # asked for by name


def test_configured_windows_follow_the_backup_days_in_the_servers_zone(server: Server) -> None:
    windows = windows_ahead(server, None, NOW, TOKYO)
    local = [w.astimezone(TOKYO) for w in windows]
    assert [w.strftime("%a %H:%M") for w in local] == [
        "Mon 21:00",
        "Tue 21:00",
        "Wed 21:00",
        "Thu 21:00",
        "Fri 21:00",
    ]
    assert all(NOW < w <= NOW + timedelta(days=7) for w in windows)


def test_the_servers_own_run_repeats_daily_at_its_local_time_across_a_dst_change() -> None:
    settings = Config.model_validate({"servers": [{"name": "ny01", "address": "a"}]})
    (server,) = settings.resolved()
    york = ZoneInfo("America/New_York")
    now = datetime(2026, 10, 29, 12, 0, tzinfo=UTC)
    stored = datetime(2026, 10, 28, 21, 0, tzinfo=york).astimezone(UTC)  # already past
    windows = windows_ahead(server, stored, now, york)
    assert [w.astimezone(york).strftime("%m-%d %H:%M %Z") for w in windows] == [
        "10-29 21:00 EDT",
        "10-30 21:00 EDT",
        "10-31 21:00 EDT",
        "11-01 21:00 EST",
        "11-02 21:00 EST",
        "11-03 21:00 EST",
        "11-04 21:00 EST",
    ]
    assert windows_ahead(server, None, now, york) == []


def test_the_forecast_is_the_forecasters_against_the_stored_minimum(
    server: Server, drain: Drain
) -> None:
    series = drain(minimum=2 * 320 * MB)  # a diff-area volume holding two volumes' storage
    windows = windows_ahead(server, None, NOW, TOKYO)
    trend = volume_trend(server, series, windows, NOW, TOKYO)
    expected = forecast_volume(series.observations, windows, NOW, timedelta(days=7), 640 * MB)
    assert trend.forecast == expected
    assert trend.forecast.minimum_bytes == 640 * MB
    assert (trend.server, trend.now, trend.zone, trend.windows) == (
        "fs01",
        NOW,
        TOKYO,
        tuple(windows),
    )
    assert NOW.tzinfo is UTC


def test_a_drives_root_reads_as_its_letter_and_other_names_as_they_are() -> None:
    found = volume_series(
        [
            _row(1, "v-d", GB, name="D:\\"),
            _row(1, "v-m", GB, name="C:\\Mount\\Data\\"),
            _row(1, "v-r", GB, name=None),
        ]
    )
    assert [s.label for s in found] == ["C:\\Mount\\Data\\", "D:", "v-r"]


def test_worst_first_puts_the_soonest_failing_volume_first_and_steady_ones_by_name(
    server: Server, drain: Drain
) -> None:
    windows = windows_ahead(server, None, NOW, TOKYO)

    def trend(name: str, per_day: int) -> VolumeSeries:
        return drain(name=name, per_day=per_day)

    volumes = [
        trend("B:\\", 0),
        trend("A:\\", 0),
        trend("S:\\", 500 * MB),  # below 1 GB by Friday
        trend("F:\\", 900 * MB),  # below 1 GB by Wednesday
    ]
    ordered = worst_first([volume_trend(server, v, windows, NOW, TOKYO) for v in volumes])
    assert [t.series.label for t in ordered] == ["F:", "S:", "A:", "B:"]
