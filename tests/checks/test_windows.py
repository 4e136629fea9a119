"""Backup windows from the servers' own schedules, with the check a lead time before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.inventory import Inventory
from checks.snapshot import Snapshot
from checks.windows import plan_windows

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
