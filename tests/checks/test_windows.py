"""Backup windows from the servers' own schedules, with the check a lead time before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.snapshot import Snapshot
from checks.windows import (
    configured_window,
    known_windows,
    next_window,
    plan_windows,
    server_zone,
)

JST = timezone(timedelta(hours=9))


def test_soonest_first_with_the_lead_time_and_unknown_ones_last(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    servers = Inventory.model_validate(
        {
            "defaults": {"lead_time_min": 45},
            "servers": [
                {"name": "app04", "address": "a"},
                {"name": "fs01", "address": "b", "lead_time_min": 90},
                {"name": "down", "address": "c"},
            ],
        }
    ).resolved()
    reports = [
        evaluate(load_snapshot("network-target"), now, en),  # next backup 01:00 JST tomorrow
        evaluate(load_snapshot("seed-incident"), now, en),  # next backup 21:00 JST
        unknown_report("down", "connection refused by c:5985", now, en),
    ]
    fs01, app04, down = plan_windows(servers, reports)
    assert (fs01.server, fs01.next_backup_at) == ("fs01", datetime(2026, 11, 24, 21, 0, tzinfo=JST))
    assert fs01.check_at == datetime(2026, 11, 24, 19, 30, tzinfo=JST)
    assert app04.check_at == datetime(2026, 11, 25, 0, 15, tzinfo=JST)
    assert (down.next_backup_at, down.check_at) == (None, None)
    assert down.reason == "down could not be checked: connection refused by c:5985"


def _server(**options: object) -> Server:
    entry = {"name": "fs01", "address": "fs01.corp.example", **options}
    (server,) = Inventory.model_validate({"servers": [entry]}).resolved()
    return server


def test_a_configured_window_is_the_next_listed_time_in_the_servers_zone() -> None:
    server = _server(backup_times=["21:00", "03:00"], timezone="Asia/Tokyo")
    assert configured_window(server, datetime(2026, 11, 24, 19, 0, tzinfo=JST)) == datetime(
        2026, 11, 24, 21, 0, tzinfo=JST
    )
    assert configured_window(server, datetime(2026, 11, 24, 21, 0, tzinfo=JST)) == datetime(
        2026, 11, 25, 3, 0, tzinfo=JST
    )


def test_configured_days_skip_the_weekend() -> None:
    server = _server(
        backup_times=["21:00"], backup_days=["mon", "tue", "wed", "thu", "fri"], timezone="UTC"
    )
    friday_night = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert configured_window(server, friday_night) == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_a_window_across_a_daylight_saving_change_keeps_its_local_time() -> None:
    server = _server(backup_times=["21:00"], timezone="Europe/Berlin")
    # Berlin leaves summer time on 2026-10-25: 21:00 is 19:00 UTC before and 20:00 UTC after.
    assert configured_window(server, datetime(2026, 10, 24, 12, 0, tzinfo=UTC)) == datetime(
        2026, 10, 24, 19, 0, tzinfo=UTC
    )
    assert configured_window(server, datetime(2026, 10, 25, 12, 0, tzinfo=UTC)) == datetime(
        2026, 10, 25, 20, 0, tzinfo=UTC
    )


def test_without_configured_times_the_servers_own_next_run_is_the_window() -> None:
    server = _server()
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    discovered = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
    assert next_window(server, discovered, now) == discovered
    assert next_window(server, now - timedelta(hours=1), now) is None  # stale: ask again
    assert next_window(server, None, now) is None
    assert configured_window(server, now) is None


def test_configured_times_win_over_the_servers_own_schedule() -> None:
    server = _server(backup_times=["23:30"], timezone="UTC")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert next_window(server, now + timedelta(hours=2), now) == datetime(
        2026, 11, 24, 23, 30, tzinfo=UTC
    )


def test_a_configured_window_is_shown_in_the_servers_zone_not_in_utc(
    load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    server = _server(backup_times=["21:00"], timezone="Asia/Tokyo")
    report = evaluate(load_snapshot("seed-incident"), now, en)
    (window,) = plan_windows([server], [report])
    assert window.next_backup_at is not None
    assert window.check_at is not None
    assert window.source == "config"
    assert window.next_backup_at.tzinfo == ZoneInfo("Asia/Tokyo")
    assert window.next_backup_at.hour == 21
    assert en.datetime(window.check_at).endswith("8:00:00\u202fPM JST")


def test_known_windows_come_from_the_config_or_the_stored_schedule_without_a_check() -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    asked = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    servers = Inventory.model_validate(
        {
            "servers": [
                {"name": "cfg", "address": "a", "backup_times": ["22:00"], "timezone": "UTC"},
                {"name": "seen", "address": "b", "timezone": "Asia/Tokyo"},
                {"name": "stale", "address": "c"},
                {"name": "never", "address": "d"},
            ]
        }
    ).resolved()
    discovered = {
        "seen": (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), asked),
        "stale": (now - timedelta(hours=1), asked),  # its run has passed: not known any more
    }
    seen, cfg, *unknown = known_windows(servers, discovered, now)
    assert (seen.server, seen.source, seen.reported_at) == ("seen", "server", asked)
    assert seen.next_backup_at == datetime(2026, 11, 24, 21, 0, tzinfo=JST)
    assert str(seen.next_backup_at.tzinfo) == "Asia/Tokyo"
    assert seen.check_at == datetime(2026, 11, 24, 20, 0, tzinfo=JST)
    assert (cfg.source, cfg.next_backup_at) == ("config", datetime(2026, 11, 24, 22, tzinfo=UTC))
    assert [(w.server, w.next_backup_at, w.reason) for w in unknown] == [
        ("never", None, None),
        ("stale", None, None),
    ]


def test_the_servers_zone_is_configured_else_reported_else_utc() -> None:
    reported = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
    assert server_zone(_server(timezone="Europe/Berlin"), reported) == ZoneInfo("Europe/Berlin")
    assert server_zone(_server(), reported) == JST
    assert server_zone(_server(), None) == UTC
    assert server_zone(None, None) == UTC
