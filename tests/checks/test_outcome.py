"""After the window: did its backup run, and did it succeed, fail (and why) or never start?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.last_backup import LastBackup
from checks.outcome import (
    CompletedWithWarnings,
    Failed,
    FailedItem,
    NotRun,
    Pending,
    Running,
    Succeeded,
    Unknown,
    window_outcome,
)
from checks.snapshot import parse_snapshot
from tests.conftest import FIXTURES

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
LATER = datetime(2026, 11, 24, 22, 0, tzinfo=JST)


def at(clock: str, day: int = 24) -> datetime:
    """A time on the server's clock (UTC+09:00), "21:00" or "21:00:04"."""
    return datetime(2026, 11, day, *map(int, clock.split(":")), tzinfo=JST)


def job(start: datetime | None, end: datetime | None, hresult: int = 0, **extra: Any) -> Any:
    """Get-WBJob's fields, as plain data."""
    return {
        "type": extra.pop("type", "Backup"),
        "state": extra.pop("state", "Completed" if end else "Running"),
        "started_at": start.isoformat() if start else None,
        "ended_at": end.isoformat() if end else None,
        "hresult": hresult,
        "detailed_hresult": extra.pop("detailed", 0),
        "error": extra.pop("error", None),
        "items": extra.pop("items", []),
    }


def summary(last: datetime | None, hresult: int = 0, **extra: Any) -> Any:
    """Get-WBSummary's fields, as plain data."""
    return {
        "last_backup_at": last.isoformat() if last else None,
        "last_success_at": None,
        "next_backup_at": extra.pop("next", at("21:00", 25).isoformat()),
        "result_hresult": hresult,
        "detailed_hresult": extra.pop("detailed", 0),
        "detailed_message": extra.pop("message", None),
        "versions": 14,
        "current_operation": extra.pop("operation", "NoOperationInProgress"),
    }


def event(event_id: int, when: datetime, hresult: int | None = None, **extra: Any) -> Any:
    """One Microsoft-Windows-Backup event, as plain data."""
    return {
        "id": event_id,
        "at": when.isoformat(),
        "hresult": hresult,
        "detailed_hresult": extra.pop("detailed", None),
        "backup_at": extra.pop("backup_at", None),
    }


def last(**parts: Any) -> LastBackup:
    return LastBackup.model_validate(parts)


class TestFromTheJob:
    def test_a_finished_job_with_no_error_succeeded_with_its_end_time(self) -> None:
        outcome = window_outcome(last(job=job(at("21:00"), at("21:42"))), WINDOW, LATER)
        assert outcome == Succeeded(at("21:00"), at("21:42"))

    def test_a_job_still_running_is_running(self) -> None:
        outcome = window_outcome(last(current_job=job(at("21:01"), None)), WINDOW, at("21:30"))
        assert outcome == Running(at("21:01"))

    def test_a_failed_job_gives_its_code_the_meaning_and_the_failed_items(self) -> None:
        items = [
            {"name": "C:", "type": "Volume", "state": "Completed", "hresult": 0,
             "detailed_hresult": 0, "error": None},
            {"name": "D:", "type": "Volume", "state": "Failed", "hresult": -2139619047,
             "detailed_hresult": 0, "error": "not enough space"},
        ]  # fmt: skip
        failing = job(at("21:00"), at("21:03"), -2139619047, items=items, error="no space")
        outcome = window_outcome(last(job=failing), WINDOW, LATER)
        assert outcome == Failed(
            started_at=at("21:00"),
            ended_at=at("21:03"),
            hresult=0x80780119,
            detailed_hresult=None,
            meaning_key="hresult.0x80780119",
            failed_items=(FailedItem("D:", 0x80780119, "hresult.0x80780119", "not enough space"),),
            error="no space",
        )

    def test_the_detailed_code_explains_a_generic_one(self) -> None:
        failing = job(at("21:00"), at("21:03"), 0x80780000, detailed=0x8004231F)
        outcome = window_outcome(last(job=failing), WINDOW, LATER)
        assert isinstance(outcome, Failed)
        assert (outcome.hresult, outcome.detailed_hresult) == (0x8004231F, 0x8004231F)
        assert outcome.meaning_key == "hresult.0x8004231F"

    def test_an_unknown_code_is_a_failure_with_no_meaning_key(self) -> None:
        outcome = window_outcome(last(job=job(at("21:00"), at("21:03"), 0x8078FFFF)), WINDOW, LATER)
        assert isinstance(outcome, Failed)
        assert (outcome.hresult, outcome.meaning_key) == (0x8078FFFF, None)

    def test_a_success_with_a_failed_item_completed_with_warnings(self) -> None:
        items = [{"name": "D:", "type": "Volume", "state": "Failed", "hresult": 0x80070005,
                  "detailed_hresult": 0x80070005, "error": "Access is denied."}]  # fmt: skip
        finished = job(at("21:00"), at("21:40"), items=items)
        outcome = window_outcome(last(job=finished), WINDOW, LATER)
        assert outcome == CompletedWithWarnings(
            at("21:00"),
            at("21:40"),
            (FailedItem("D:", 0x80070005, "hresult.0x80070005", "Access is denied."),),
        )

    def test_yesterdays_job_says_nothing_about_tonight(self) -> None:
        yesterday = job(at("21:00", 23), at("21:40", 23))
        outcome = window_outcome(last(job=yesterday, events=[]), WINDOW, LATER)
        assert outcome == NotRun(last_backup_at=None, next_backup_at=None)

    def test_a_run_from_the_next_windows_start_on_belongs_to_the_next_window(self) -> None:
        tomorrow = job(at("21:00", 25), at("21:40", 25))
        yesterday = summary(at("21:00", 23))
        outcome = window_outcome(
            last(job=tomorrow, summary=yesterday),
            WINDOW - timedelta(days=1),
            at("22:00", 25),
            window_end=WINDOW,
        )
        assert outcome == Succeeded(at("21:00", 23), None)

    def test_a_rerun_running_now_does_not_hide_the_windows_failed_run(self) -> None:
        failed = job(at("21:00"), at("21:03"), 0x80780119)
        rerun = job(at("21:30"), None)
        outcome = window_outcome(last(job=failed, current_job=rerun), WINDOW, at("21:40"))
        assert isinstance(outcome, Failed)
        assert outcome.started_at == at("21:00")

    def test_a_recovery_job_is_not_the_backup(self) -> None:
        recovery = job(at("21:10"), at("21:20"), type="Recovery")
        tonight = summary(at("21:00"))
        outcome = window_outcome(last(job=recovery, summary=tonight), WINDOW, LATER)
        assert outcome == Succeeded(at("21:00"), None)

    def test_a_run_a_few_minutes_early_by_the_bots_clock_still_counts(self) -> None:
        outcome = window_outcome(last(job=job(at("20:57"), at("21:30"))), WINDOW, LATER)
        assert outcome == Succeeded(at("20:57"), at("21:30"))

    def test_the_same_instant_in_another_zone_is_the_same_window(self) -> None:
        in_utc = WINDOW.astimezone(UTC)
        outcome = window_outcome(last(job=job(at("21:00"), at("21:42"))), in_utc, LATER)
        assert outcome == Succeeded(at("21:00"), at("21:42"))


class TestFromTheSummary:
    def test_a_summary_of_tonight_with_no_error_succeeded(self) -> None:
        outcome = window_outcome(last(summary=summary(at("21:00"))), WINDOW, LATER)
        assert outcome == Succeeded(at("21:00"), None)

    def test_a_failure_in_the_summary_carries_its_message(self) -> None:
        failing = summary(at("21:00"), 0x807800C5, detailed=0x800701B1, message="No device.")
        outcome = window_outcome(last(summary=failing), WINDOW, LATER)
        assert outcome == Failed(
            at("21:00"), None, 0x807800C5, 0x800701B1, "hresult.0x807800C5", (), "No device."
        )

    def test_an_operation_in_progress_with_no_result_yet_is_running(self) -> None:
        busy = summary(at("21:00", 23), operation="BackupInProgress")
        outcome = window_outcome(last(summary=busy), WINDOW, at("21:20"))
        assert outcome == Running(None)


class TestFromTheEvents:
    def test_a_start_then_a_failure_is_a_failure_with_the_events_code(self) -> None:
        events = [
            event(5, at("21:04"), 0x80780119, detailed=0x8004231F,
                  backup_at="2026-11-24T12:00:05+00:00"),
            event(1, at("21:00")),
        ]  # fmt: skip
        outcome = window_outcome(last(events=events), WINDOW, LATER)
        assert outcome == Failed(
            datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC),
            at("21:04"),
            0x80780119,
            0x8004231F,
            "hresult.0x80780119",
            (),
            None,
        )

    @pytest.mark.parametrize(
        ("ending", "expected"),
        [
            (event(4, at("21:40"), 0), Succeeded(at("21:00"), at("21:40"))),
            (event(14, at("21:40"), 0), Succeeded(at("21:00"), at("21:40"))),
            (event(7, at("21:40"), 0), CompletedWithWarnings(at("21:00"), at("21:40"), ())),
            (event(49, at("21:01")), Failed(at("21:00"), at("21:01"), None, None, None, (), None)),
        ],
        ids=["4 succeeded", "14 completed", "7 completed with errors", "49 no target"],
    )
    def test_the_last_event_of_the_window_decides(self, ending: Any, expected: object) -> None:
        events = [ending, event(1, at("21:00"))]
        assert window_outcome(last(events=events), WINDOW, LATER) == expected

    def test_the_windows_first_run_decides_not_a_rerun_after_it(self) -> None:
        events = [
            event(4, at("22:40"), 0),
            event(1, at("22:00")),
            event(5, at("21:04"), 0x80780119),
            event(1, at("21:00")),
        ]
        outcome = window_outcome(last(events=events), WINDOW, LATER)
        assert isinstance(outcome, Failed)
        assert (outcome.started_at, outcome.ended_at) == (at("21:00"), at("21:04"))

    def test_a_start_alone_is_running(self) -> None:
        outcome = window_outcome(last(events=[event(1, at("21:00"))]), WINDOW, at("21:20"))
        assert outcome == Running(at("21:00"))

    def test_an_empty_channel_read_in_time_means_no_backup_ran(self) -> None:
        assert window_outcome(last(events=[]), WINDOW, LATER) == NotRun(None, None)


class TestNothingInTheWindow:
    def test_soon_after_the_window_opens_the_run_may_still_start(self) -> None:
        outcome = window_outcome(last(summary=summary(at("21:00", 23))), WINDOW, at("21:10"))
        assert outcome == Pending(deadline=at("21:30"))

    def test_past_the_grace_no_backup_ran_and_the_summary_says_when_the_last_did(self) -> None:
        old = summary(at("21:00", 23), next=None)
        outcome = window_outcome(last(summary=old), WINDOW, at("21:31"))
        assert outcome == NotRun(last_backup_at=at("21:00", 23), next_backup_at=None)

    def test_the_grace_can_be_set(self) -> None:
        read = last(summary=summary(at("21:00", 23)))
        outcome = window_outcome(read, WINDOW, at("21:10"), start_grace=timedelta(minutes=5))
        assert isinstance(outcome, NotRun)

    @pytest.mark.parametrize("read", [None, LastBackup()], ids=["no last_backup", "all null"])
    def test_nothing_read_is_unknown(self, read: LastBackup | None) -> None:
        assert window_outcome(read, WINDOW, LATER) == Unknown()

    def test_naive_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="window_start must carry its time zone"):
            window_outcome(None, WINDOW.replace(tzinfo=None), LATER)


def outcome_of(name: str, window: datetime = WINDOW) -> object:
    snapshot = parse_snapshot((FIXTURES / "outcomes" / f"{name}.json").read_bytes())
    return window_outcome(snapshot.last_backup, window, snapshot.collected_at)


def test_the_fixture_that_succeeded() -> None:
    assert outcome_of("succeeded") == Succeeded(at("21:00:04"), at("21:41:37"))


def test_the_fixture_still_running() -> None:
    assert outcome_of("running") == Running(at("21:00:02"))


def test_the_fixture_that_failed_for_shadow_copy_space() -> None:
    outcome = outcome_of("failed-vss-space")
    assert isinstance(outcome, Failed)
    assert (outcome.hresult, outcome.detailed_hresult) == (0x80780119, 0x8004231F)
    assert outcome.meaning_key == "hresult.0x80780119"
    assert [(i.name, i.hresult) for i in outcome.failed_items] == [("D:", 0x80780119)]


def test_the_fixture_whose_target_was_missing() -> None:
    outcome = outcome_of("target-missing")
    assert isinstance(outcome, Failed)
    assert (outcome.hresult, outcome.meaning_key) == (0x807800C5, "hresult.0x807800C5")
    assert [i.name for i in outcome.failed_items] == ["C:", "D:"]


def test_the_fixture_with_warnings() -> None:
    outcome = outcome_of("warnings")
    assert isinstance(outcome, CompletedWithWarnings)
    assert [(i.name, i.hresult) for i in outcome.failed_items] == [("D:", 0x80070005)]


def test_the_fixture_read_from_the_events() -> None:
    outcome = outcome_of("events-only")
    assert isinstance(outcome, Failed)
    assert (outcome.hresult, outcome.ended_at) == (0x80780119, at("21:04:40"))


def test_the_fixture_read_the_night_before_saw_that_run_succeed() -> None:
    assert outcome_of("events-only", WINDOW - timedelta(days=1)) == Succeeded(
        datetime(2026, 11, 23, 12, 0, 2, tzinfo=UTC), at("21:41:12", 23)
    )


def test_the_fixture_where_no_backup_ran() -> None:
    assert outcome_of("not-run") == NotRun(at("21:00:02", 23), next_backup_at=None)


ZONES = st.sampled_from(
    [UTC, JST, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))]
)
MOMENTS = st.builds(
    lambda minutes, zone: (WINDOW + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
    ZONES,
)
CODES = st.one_of(st.none(), st.sampled_from([0, 0x80780119, 0x8004231F, 0x80780123, -2139619047]))
JOBS = st.one_of(
    st.none(),
    st.builds(
        lambda start, end, code, state, kind: job(start, end, code or 0, state=state, type=kind),
        MOMENTS,
        st.one_of(st.none(), MOMENTS),
        CODES,
        st.sampled_from(["Completed", "Running", "Failed", "Queued"]),
        st.sampled_from(["Backup", "Recovery"]),
    ),
)
EVENTS = st.one_of(
    st.none(),
    st.lists(
        st.builds(event, st.sampled_from([1, 4, 5, 7, 8, 9, 14, 19, 49, 100]), MOMENTS, CODES),
        max_size=8,
    ),
)


@given(job_=JOBS, running=JOBS, events=EVENTS, now=MOMENTS)
def test_any_reading_gives_one_outcome_and_never_an_error(
    job_: Any, running: Any, events: Any, now: datetime
) -> None:
    read = last(job=job_, current_job=running, events=events)
    outcome = window_outcome(read, WINDOW, now)
    assert isinstance(
        outcome, Running | Succeeded | CompletedWithWarnings | Failed | Pending | NotRun | Unknown
    )
    if isinstance(outcome, Failed) and outcome.hresult is not None:
        assert 0 < outcome.hresult < 2**32
