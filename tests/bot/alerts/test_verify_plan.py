"""After a window: a verification from window start + delay, a reading every few minutes until
the backup finished or the timeout passed, and what the verdict does to the window's alert."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.alerts.lifecycle import Alert, Effect
from bot.alerts.schedule.plan import Job, RunRecord
from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.alerts.verify_plan import Again, Done, VerifyPolicy, next_step, on_verdict, verify_jobs
from checks.inventory import Inventory, Server
from checks.outcome import (
    CompletedWithWarnings,
    Failed,
    FailedItem,
    NotRun,
    Pending,
    Running,
    Succeeded,
    Unknown,
)
from checks.report import Status

JST = timezone(timedelta(hours=9))
POLICY = VerifyPolicy()


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JST)


WINDOW = at(21)
FS01 = {"name": "fs01", "address": "a", "backup_times": ["21:00"], "timezone": "Asia/Tokyo"}
DISCOVERED = {"name": "dc01", "address": "b"}


def servers(*entries: dict[str, object]) -> list[Server]:
    return Inventory.model_validate({"servers": list(entries)}).resolved()


def verify(server: str, run_at: datetime, window: datetime = WINDOW) -> Job:
    return Job(server, "verify", window, run_at)


# When to read


def test_the_first_reading_is_the_delay_after_the_window_starts() -> None:
    before = verify_jobs(servers(FS01), [], at(21, 5), POLICY)
    assert (before.due, before.later) == ([], [verify("fs01", at(21, 10))])
    assert verify_jobs(servers(FS01), [], at(21, 10), POLICY).due == [verify("fs01", at(21, 10))]


def test_a_window_learnt_from_the_server_is_verified_after_its_check() -> None:
    checked = [RunRecord("dc01", at(2, 0, 25), "check", "done", at(1, 0, 25))]
    result = verify_jobs(servers(DISCOVERED), checked, at(2, 10, 25), POLICY)
    assert result.due == [verify("dc01", at(2, 10, 25), at(2, 0, 25))]
    # Not before the window: the check's row is for a window still to come.
    assert verify_jobs(servers(DISCOVERED), checked, at(1, 30, 25), POLICY).due == []


def test_between_readings_the_verification_is_held_until_the_next() -> None:
    parked = [RunRecord("fs01", WINDOW, "verify", "running", None, at(21, 15))]
    result = verify_jobs(servers(FS01), parked, at(21, 12), POLICY)
    assert result.due == [verify("fs01", at(21, 10))]
    assert result.held == {"verify:fs01:2026-11-24T21:00:00+09:00": at(21, 15)}


def test_a_window_with_a_verdict_is_not_read_again() -> None:
    done = [RunRecord("fs01", WINDOW, "verify", "done", at(21, 45))]
    result = verify_jobs(servers(FS01), done, at(21, 50), POLICY)
    assert (result.due, result.later) == ([], [])


def test_a_window_older_than_the_timeout_is_not_started_but_one_under_way_concludes() -> None:
    late = at(3, 1, 25)  # 6 h 1 min after the window
    assert verify_jobs(servers(FS01), [], late, POLICY).due == []
    parked = [RunRecord("fs01", WINDOW, "verify", "running", None, at(2, 58, 25))]
    assert verify_jobs(servers(FS01), parked, late, POLICY).due == [verify("fs01", at(21, 10))]


def test_nothing_is_verified_when_verification_is_off() -> None:
    off = VerifyPolicy(enabled=False)
    assert verify_jobs(servers(FS01), [], at(21, 30), off).due == []


# When to stop


def test_a_running_backup_is_read_again_every_few_minutes() -> None:
    assert next_step(Running(at(21)), WINDOW, at(21, 10), POLICY) == Again(at(21, 15))
    assert next_step(Pending(at(21, 30)), WINDOW, at(21, 10), POLICY) == Again(at(21, 15))
    assert next_step(None, WINDOW, at(21, 10), POLICY) == Again(at(21, 15))  # unreachable
    # Never past the timeout: the last reading is at it.
    assert next_step(Running(at(21)), WINDOW, at(2, 58, 25), POLICY) == Again(at(3, 0, 25))


def test_a_finished_backup_ends_the_verification() -> None:
    ended = Succeeded(at(21), at(21, 42))
    assert next_step(ended, WINDOW, at(21, 45), POLICY) == Done(
        WindowVerdict(VerdictKind.SUCCEEDED, at(21), at(21, 42))
    )
    failed = Failed(
        at(21), at(21, 3), 0x80780119, 0x8004231F, "k", (FailedItem("D:", 1, None, None),), None
    )
    assert next_step(failed, WINDOW, at(21, 10), POLICY) == Done(
        WindowVerdict(VerdictKind.FAILED, at(21), at(21, 3), 0x80780119, ("D:",))
    )
    warned = CompletedWithWarnings(at(21), at(21, 40), (FailedItem(None, None, None, None),))
    assert next_step(warned, WINDOW, at(21, 45), POLICY) == Done(
        WindowVerdict(VerdictKind.WARNINGS, at(21), at(21, 40), None, ("?",))
    )
    missing = NotRun(at(21, 0, 23), None)
    assert next_step(missing, WINDOW, at(21, 35), POLICY) == Done(
        WindowVerdict(VerdictKind.NOT_RUN, last_backup_at=at(21, 0, 23))
    )


def test_past_the_timeout_the_verdict_is_still_running_or_unknown() -> None:
    six_hours = timedelta(hours=6)
    assert next_step(Running(at(21)), WINDOW, at(3, 0, 25), POLICY) == Done(
        WindowVerdict(VerdictKind.STILL_RUNNING, at(21), waited=six_hours)
    )
    assert next_step(Unknown(), WINDOW, at(3, 0, 25), POLICY) == Done(
        WindowVerdict(VerdictKind.UNKNOWN, waited=six_hours)
    )
    assert next_step(None, WINDOW, at(3, 0, 25), POLICY) == Done(
        WindowVerdict(VerdictKind.UNKNOWN, waited=six_hours)
    )


def test_a_verdict_survives_its_json_column() -> None:
    verdict = WindowVerdict(
        VerdictKind.NOT_RUN,
        None,
        None,
        0x80780119,
        ("C:", "D:"),
        at(21, 0, 23),
        at(21, 0, 25),
        timedelta(hours=6),
        decided_at=at(21, 0, 30),
    )
    back = WindowVerdict.from_json(verdict.to_json())
    assert back == verdict
    assert back.decided_at == verdict.decided_at  # not compared: a repeated reading is the same


# What the verdict does to the alert

OPEN = Alert("fs01", WINDOW, Status.CRITICAL, (("SHADOW", "d", "critical"),), at(20))
SUCCESS = WindowVerdict(VerdictKind.SUCCEEDED, at(21), at(21, 42))
FAILURE = WindowVerdict(VerdictKind.FAILED, at(21), at(21, 3), 0x80780119)
NOT_RUN = WindowVerdict(VerdictKind.NOT_RUN)


def test_a_success_closes_the_windows_alert_as_verified() -> None:
    moved = on_verdict(OPEN, SUCCESS, "fs01", WINDOW, at(21, 45), POLICY)
    assert moved.effects == (Effect.UPDATE_ALERT, Effect.REPLY_OUTCOME)
    assert moved.alert is not None
    assert (moved.alert.outcome, moved.alert.resolved_at) == (SUCCESS, at(21, 45))
    # Resolved by the re-check before the window: it keeps that time.
    resolved = Alert("fs01", WINDOW, Status.CRITICAL, (), at(20), resolved_at=at(20, 45))
    kept = on_verdict(resolved, SUCCESS, "fs01", WINDOW, at(21, 45), POLICY).alert
    assert kept is not None
    assert kept.resolved_at == at(20, 45)


def test_a_failure_keeps_the_alert_open_or_reopens_it_marked_failed() -> None:
    resolved = Alert("fs01", WINDOW, Status.WARNING, (), at(20), resolved_at=at(20, 45))
    moved = on_verdict(resolved, FAILURE, "fs01", WINDOW, at(21, 10), POLICY)
    assert moved.effects == (Effect.UPDATE_ALERT, Effect.REPLY_OUTCOME)
    assert moved.alert is not None
    assert (moved.alert.resolved_at, moved.alert.severity) == (None, Status.CRITICAL)
    assert moved.alert.outcome == FAILURE


def test_a_verdict_told_already_changes_nothing() -> None:
    told = on_verdict(OPEN, FAILURE, "fs01", WINDOW, at(21, 10), POLICY).alert
    assert told is not None
    assert on_verdict(told, FAILURE, "fs01", WINDOW, at(21, 15), POLICY).effects == ()


def test_without_an_alert_a_failure_or_a_missed_backup_opens_one() -> None:
    for verdict in (FAILURE, NOT_RUN):
        opened = on_verdict(None, verdict, "fs01", WINDOW, at(21, 35), POLICY)
        assert opened.effects == (Effect.POST_ALERT, Effect.REPLY_OUTCOME)
        assert opened.alert == Alert(
            "fs01", WINDOW, Status.CRITICAL, (), at(21, 35), outcome=verdict
        )
    silenced = on_verdict(None, FAILURE, "fs01", WINDOW, at(21, 35), POLICY, silenced=True)
    assert silenced.alert is None


def test_a_verdict_less_severe_than_alerts_min_severity_opens_no_alert() -> None:
    critical_only = VerifyPolicy(min_severity=Status.CRITICAL)
    warned = WindowVerdict(VerdictKind.WARNINGS, at(21), at(21, 40))
    assert on_verdict(None, warned, "fs01", WINDOW, at(21, 45), critical_only).alert is None
    assert on_verdict(None, FAILURE, "fs01", WINDOW, at(21, 45), critical_only).alert is not None
    # An open alert is told in any case.
    assert on_verdict(OPEN, warned, "fs01", WINDOW, at(21, 45), critical_only).effects


def test_without_an_alert_a_success_posts_only_when_configured() -> None:
    assert on_verdict(None, SUCCESS, "fs01", WINDOW, at(21, 45), POLICY).alert is None
    told = on_verdict(None, SUCCESS, "fs01", WINDOW, at(21, 45), VerifyPolicy(post_success=True))
    assert told.effects == (Effect.POST_ALERT,)
    assert told.alert is not None
    assert told.alert.resolved_at == at(21, 45)
