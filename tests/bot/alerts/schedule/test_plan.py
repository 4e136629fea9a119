"""The plan: a check a lead time before each window, a re-check while an alert is open,
checks spread by a fixed jitter, and missed checks run within the grace time or are skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.alerts.schedule.plan import NEVER, Job, RunRecord, SchedulePolicy, jitter_for, plan
from checks.inventory import Inventory, Server

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
NO_JITTER = SchedulePolicy(jitter=timedelta(0))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=JST)


def servers(*entries: dict[str, object]) -> list[Server]:
    return Inventory.model_validate({"servers": list(entries)}).resolved()


FS01 = {"name": "fs01", "address": "a", "backup_times": ["21:00"], "timezone": "Asia/Tokyo"}


def test_the_check_runs_the_lead_time_before_the_window() -> None:
    early = plan(servers(FS01), {}, [], [], at(19), NO_JITTER)
    assert early.due == []
    assert early.later == [Job("fs01", "check", WINDOW, at(20))]
    assert early.windows == {"fs01": WINDOW}
    assert plan(servers(FS01), {}, [], [], at(20), NO_JITTER).due == [
        Job("fs01", "check", WINDOW, at(20))
    ]


def test_a_check_that_ran_is_not_planned_again() -> None:
    done = [RunRecord("fs01", WINDOW, "check", "done", at(20, 1))]
    result = plan(servers(FS01), {}, done, [], at(20, 5), NO_JITTER)
    assert (result.due, result.later) == ([], [])


def test_an_open_alert_adds_a_re_check_shortly_before_the_window() -> None:
    done = [RunRecord("fs01", WINDOW, "check", "done", at(20, 1))]
    result = plan(servers(FS01), {}, done, [("fs01", WINDOW)], at(20, 5), NO_JITTER)
    assert result.later == [Job("fs01", "recheck", WINDOW, at(20, 45))]


def test_a_missed_check_runs_within_the_grace_time_and_is_skipped_after_it() -> None:
    policy = SchedulePolicy(jitter=timedelta(0), grace=timedelta(minutes=30))
    assert plan(servers(FS01), {}, [], [], at(20, 29), policy).due == [
        Job("fs01", "check", WINDOW, at(20))
    ]
    late = plan(servers(FS01), {}, [], [], at(20, 31), policy)
    assert late.due == []
    assert late.missed == [Job("fs01", "check", WINDOW, at(20))]


def test_jitter_spreads_500_servers_and_stays_the_same_after_a_restart() -> None:
    spread = timedelta(minutes=2)
    offsets = [jitter_for(f"fs{n:03}", spread) for n in range(500)]
    assert all(timedelta(0) <= o < spread for o in offsets)
    assert len({o.total_seconds() for o in offsets}) > 100  # not all in the same second
    assert offsets == [jitter_for(f"fs{n:03}", spread) for n in range(500)]
    entries = [{**FS01, "name": f"fs{n:03}"} for n in range(500)]
    result = plan(servers(*entries), {}, [], [], at(19), SchedulePolicy(jitter=spread))
    assert {j.run_at for j in result.later} <= {at(20) - o for o in offsets}
    assert all(at(20) - spread < j.run_at <= at(20) for j in result.later)


def test_without_configured_times_the_server_is_asked_for_its_schedule() -> None:
    (fs02,) = servers({"name": "fs02", "address": "b"})
    first = plan([fs02], {}, [], [], at(10), NO_JITTER)
    assert [j.kind for j in first.due] == ["discover"]
    known = {"fs02": (WINDOW, at(10))}
    then = plan([fs02], known, [], [], at(11), NO_JITTER)
    assert then.due == []
    assert then.later == [Job("fs02", "check", WINDOW, at(20))]
    # A day later the server is asked again, in case its schedule changed.
    a_day_later = plan(
        [fs02],
        {"fs02": (WINDOW + timedelta(days=1), at(10))},
        [],
        [],
        at(10) + timedelta(days=1),
        NO_JITTER,
    )
    assert "discover" in [j.kind for j in a_day_later.due]


def test_an_unreachable_server_is_asked_again_hourly_not_every_minute() -> None:
    (fs02,) = servers({"name": "fs02", "address": "b"})
    unknown = {"fs02": (None, at(10))}
    assert plan([fs02], unknown, [], [], at(10, 30), NO_JITTER).due == []
    assert [j.kind for j in plan([fs02], unknown, [], [], at(11), NO_JITTER).due] == ["discover"]


def test_job_ids_are_stable_so_replanning_replaces_instead_of_adding() -> None:
    job = Job("fs01", "check", WINDOW.astimezone(UTC), at(20))
    assert job.id == "check:fs01:2026-11-24T12:00:00+00:00"
    assert Job("fs02", "discover", at(10), at(10)).id == Job("fs02", "discover", at(11), at(11)).id


def test_a_lead_time_shorter_than_the_re_check_time_plans_no_re_check() -> None:
    quick = {**FS01, "lead_time_min": 10}
    done = [RunRecord("fs01", WINDOW, "check", "done", at(20, 50))]
    result = plan(servers(quick), {}, done, [("fs01", WINDOW)], at(20, 51), NO_JITTER)
    assert (result.due, result.later) == ([], [])


def test_a_check_a_replica_holds_is_due_with_its_lease_end_even_past_the_grace() -> None:
    policy = SchedulePolicy(jitter=timedelta(0), grace=timedelta(minutes=30))
    lease_end = at(20, 32)
    held = [RunRecord("fs01", WINDOW, "check", "running", None, lease_end)]
    result = plan(servers(FS01), {}, held, [], at(20, 31), policy)
    (job,) = result.due
    assert result.missed == []
    assert result.held == {job.id: lease_end}


def test_a_check_whose_lease_ended_is_due_again_like_an_unclaimed_one() -> None:
    dead = [RunRecord("fs01", WINDOW, "check", "running", None, at(20, 1))]
    result = plan(servers(FS01), {}, dead, [], at(20, 1), NO_JITTER)
    assert result.due == [Job("fs01", "check", WINDOW, at(20))]
    assert result.held == {}


def test_a_discovery_names_the_refresh_it_follows_so_replicas_plan_the_same_one() -> None:
    (fs02,) = servers({"name": "fs02", "address": "b"})
    (never,) = plan([fs02], {}, [], [], at(10), NO_JITTER).due
    assert never == Job("fs02", "discover", NEVER, at(10))
    asked = {"fs02": (None, at(10))}
    (again,) = plan([fs02], asked, [], [], at(11, 5), NO_JITTER).due
    assert again == Job("fs02", "discover", at(10), at(11, 5))


def test_a_discovery_another_replica_runs_is_looked_at_when_its_lease_ends() -> None:
    (fs02,) = servers({"name": "fs02", "address": "b"})
    asked = {"fs02": (None, at(10))}
    running = [RunRecord("fs02", at(10), "discover", "running", None, at(11, 6))]
    result = plan([fs02], asked, running, [], at(11, 5), NO_JITTER)
    (job,) = result.due
    assert result.held == {job.id: at(11, 6)}
