"""Liveness rules with plain data: who is alive, the outage before a start, the missed checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.replicas import (
    STALE,
    Heartbeat,
    Outage,
    alive,
    missed_checks,
    outage,
)
from bot.alerts.schedule.plan import RunRecord
from checks.inventory import Inventory, Server

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)  # 21:30 in Tokyo
WINDOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # fs01's 21:00 backup
GRACE = timedelta(minutes=30)


def beat(replica: str, seen: datetime, stopped: datetime | None = None) -> Heartbeat:
    return Heartbeat(replica, "host", 1, seen - timedelta(hours=1), seen, stopped)


def server(**entry: object) -> Server:
    (resolved,) = Inventory.model_validate({"servers": [entry]}).resolved()
    return resolved


def fs01() -> Server:
    return server(name="fs01", address="a", backup_times=["21:00"], timezone="Asia/Tokyo")


def test_alive_means_a_recent_beat_and_no_stop() -> None:
    fresh = beat("a", NOW - timedelta(seconds=10))
    stale = beat("b", NOW - STALE - timedelta(seconds=1))
    stopped = beat("c", NOW - timedelta(seconds=5), stopped=NOW - timedelta(seconds=5))
    assert alive([stale, fresh, stopped], NOW) == [fresh]


def test_an_outage_runs_from_the_last_sign_of_life_to_now() -> None:
    beats = [beat("a", NOW - timedelta(hours=3)), beat("b", NOW - timedelta(hours=2))]
    assert outage(beats, "me", NOW) == Outage(NOW - timedelta(hours=2), NOW)


def test_a_clean_stop_counts_as_the_last_sign() -> None:
    stopped = NOW - timedelta(minutes=90)
    beats = [beat("a", NOW - timedelta(hours=2), stopped=stopped)]
    assert outage(beats, "me", NOW) == Outage(stopped, NOW)


def test_no_outage_while_another_replica_is_alive_or_none_ever_beat() -> None:
    assert outage([beat("a", NOW - timedelta(seconds=20))], "me", NOW) is None
    assert outage([], "me", NOW) is None
    # Our own earlier row (this id beating already) is not another replica.
    assert outage([beat("me", NOW - timedelta(hours=5))], "me", NOW) is None


def test_a_quick_restart_is_no_outage() -> None:
    assert outage([beat("a", NOW - STALE + timedelta(seconds=1))], "me", NOW) is None


def test_a_check_due_while_all_were_down_is_missed() -> None:
    down = Outage(NOW - timedelta(hours=3), NOW)  # 18:30 to 21:30 Tokyo time
    (missed,) = missed_checks([fs01()], {}, [], down, timedelta(0), GRACE)
    assert (missed.server, missed.window_at) == ("fs01", WINDOW)
    assert missed.due_at == WINDOW - timedelta(hours=1)
    assert missed.key == f"missed/fs01/{WINDOW.isoformat()}"


def test_a_check_that_ran_is_not_missed() -> None:
    down = Outage(NOW - timedelta(hours=3), NOW)
    done = RunRecord("fs01", WINDOW, "check", "done", WINDOW - timedelta(hours=1))
    assert missed_checks([fs01()], {}, [done], down, timedelta(0), GRACE) == []


def test_a_check_given_up_at_start_up_is_missed() -> None:
    down = Outage(NOW - timedelta(hours=3), NOW)
    given_up = RunRecord("fs01", WINDOW, "check", "missed", NOW)
    assert len(missed_checks([fs01()], {}, [given_up], down, timedelta(0), GRACE)) == 1


def test_a_check_still_within_grace_runs_late_and_is_not_missed() -> None:
    up = WINDOW - timedelta(minutes=40)  # 20:20: 20 minutes late, the window still ahead
    down = Outage(up - timedelta(hours=2), up)
    assert missed_checks([fs01()], {}, [], down, timedelta(0), GRACE) == []


def test_a_check_due_before_the_outage_is_not_the_outages() -> None:
    down = Outage(WINDOW - timedelta(minutes=30), NOW)  # down after the 20:00 check
    assert missed_checks([fs01()], {}, [], down, timedelta(0), GRACE) == []


def test_a_long_outage_misses_each_days_check_once() -> None:
    down = Outage(NOW - timedelta(days=3), NOW)
    missed = missed_checks([fs01()], {}, [], down, timedelta(0), GRACE)
    assert [m.window_at for m in missed] == [WINDOW - timedelta(days=n) for n in (2, 1, 0)]


def test_a_servers_own_schedule_counts_too() -> None:
    own = server(name="dc01", address="b", lead_time_min=30)
    discovered = {"dc01": (WINDOW, NOW - timedelta(hours=6))}
    down = Outage(NOW - timedelta(hours=3), NOW)
    (missed,) = missed_checks([own], discovered, [], down, timedelta(0), GRACE)
    assert missed.due_at == WINDOW - timedelta(minutes=30)
