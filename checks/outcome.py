"""After a backup window: did the backup of that window run, and how did it end?

Pure: a snapshot's `last_backup` part, the window's start and the moment it was read in, one
typed outcome out. No clock and no I/O; every time is timezone-aware (the server reports its
times with their offset, and the same instant compares equal in any zone).

What Windows Server Backup records, best first: the job (Get-WBJob, with its items), then the
summary (Get-WBSummary), then the Microsoft-Windows-Backup events when the cmdlets could not
be read. tests/fixtures/README.md cites the sources of every field and event ID used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.hresults import explained, meaning_key
from checks.last_backup import BackupEvent, BackupJob, BackupSummary, LastBackup

# A run may start a little before the window's nominal time as the two clocks see it.
CLOCK_SLACK = timedelta(minutes=5)
# How long after the window's start a run may still begin before "no backup ran" is said.
START_GRACE = timedelta(minutes=30)

# Microsoft-Windows-Backup channel event IDs (message table of BlbEvents.dll, and the
# Application-log IDs 5xx Windows writes for the same moments).
EVENT_STARTED = frozenset({1})
EVENT_SUCCEEDED = frozenset({4})
EVENT_WARNINGS = frozenset({7, 23, 547})  # completed with errors; some files not backed up
EVENT_COMPLETED = frozenset({14})  # completed, outcome in its HRESULT
EVENT_FAILED = frozenset(
    {5, 6, 8, 9, 17, 18, 19, 20, 49, 50, 52}  # the Microsoft-Windows-Backup channel
    | {517, 518, 519, 521, 544, 545, 546, 561, 564}  # the same failures in the Application log
)
_NO_OPERATION = "NoOperationInProgress"


@dataclass(frozen=True)
class FailedItem:
    """An item of the job (a volume, the system state...) that did not back up."""

    name: str | None
    hresult: int | None
    meaning_key: str | None
    error: str | None


@dataclass(frozen=True)
class Running:
    """The window's backup is still running."""

    started_at: datetime | None


@dataclass(frozen=True)
class Succeeded:
    """The window's backup succeeded; ended_at is None when only its start time is known."""

    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class CompletedWithWarnings:
    """The backup finished, but some items or files were not backed up."""

    started_at: datetime | None
    ended_at: datetime | None
    failed_items: tuple[FailedItem, ...]


@dataclass(frozen=True)
class Failed:
    """The window's backup failed. hresult is the code the table explains best (the job's or
    its detailed one); meaning_key is None for a code not in the table."""

    started_at: datetime | None
    ended_at: datetime | None
    hresult: int | None
    detailed_hresult: int | None
    meaning_key: str | None
    failed_items: tuple[FailedItem, ...]
    error: str | None


@dataclass(frozen=True)
class Pending:
    """No run seen yet, but one may still start; if none has by `deadline`, none ran."""

    deadline: datetime


@dataclass(frozen=True)
class NotRun:
    """No backup ran in the window (server off, schedule disabled, task missing...).
    next_backup_at None: Windows Server Backup has no next run scheduled either."""

    last_backup_at: datetime | None
    next_backup_at: datetime | None


@dataclass(frozen=True)
class Unknown:
    """What Windows Server Backup recorded could not be read (the warnings say why)."""


Outcome = Running | Succeeded | CompletedWithWarnings | Failed | Pending | NotRun | Unknown


@dataclass(frozen=True)
class _Span:
    """When a run must have started to be the window's: from `since` to `until`."""

    since: datetime
    until: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.since <= moment <= self.until


def window_outcome(
    last: LastBackup | None,
    window_start: datetime,
    now: datetime,
    *,
    window_end: datetime | None = None,
    start_grace: timedelta = START_GRACE,
) -> Outcome:
    """The outcome of the backup window that opened at window_start, as read at `now`.

    The window's run is the first one that started in it; a run from window_end on (the next
    window's start, when given) belongs to the next window.
    """
    for name, moment in (("window_start", window_start), ("now", now), ("window_end", window_end)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"{name} must carry its time zone")
    if last is None or (
        last.summary is None
        and last.job is None
        and last.current_job is None
        and last.events is None
    ):
        return Unknown()
    until = now + CLOCK_SLACK
    if window_end is not None:
        until = min(until, window_end - CLOCK_SLACK)
    span = _Span(window_start - CLOCK_SLACK, until)
    # Of the finished job and the running one, the first to start in the window is its run.
    jobs = [j for j in (last.job, last.current_job) if j is not None and _is_backup_in(j, span)]
    if jobs:
        return _from_job(min(jobs, key=lambda j: j.started_at or window_start))
    found = _from_summary(last.summary, span)
    if found is None:
        found = _from_events(last.events or (), span)
    if found is not None:
        return found
    if now < window_start + start_grace:
        return Pending(window_start + start_grace)
    summary = last.summary
    return NotRun(
        summary.last_backup_at if summary else None,
        summary.next_backup_at if summary else None,
    )


def _is_backup_in(job: BackupJob, span: _Span) -> bool:
    return (job.type or "Backup").casefold() == "backup" and span.holds(job.started_at)


def _from_job(job: BackupJob) -> Outcome:
    if (job.state or "").casefold() == "running" or job.ended_at is None:
        return Running(job.started_at)
    items = tuple(
        FailedItem(i.name, code, meaning_key(code) if code else None, i.error)
        for i in job.items
        if (code := explained(i.hresult, i.detailed_hresult)) or _failed_state(i.state)
    )
    if _succeeded(job.hresult, job.detailed_hresult):
        if items:
            return CompletedWithWarnings(job.started_at, job.ended_at, items)
        return Succeeded(job.started_at, job.ended_at)
    code = explained(job.hresult, job.detailed_hresult)
    return Failed(
        job.started_at,
        job.ended_at,
        code,
        job.detailed_hresult or None,
        meaning_key(code) if code else None,
        items,
        job.error,
    )


def _succeeded(hresult: int | None, detailed: int | None) -> bool:
    # The result HRESULT decides; the detailed one only explains a failure (or stands in
    # for a missing result).
    return hresult == 0 or (hresult is None and not detailed)


def _failed_state(state: str | None) -> bool:
    return state is not None and state.casefold() in {"failed", "error", "canceled", "cancelled"}


def _from_summary(summary: BackupSummary | None, span: _Span) -> Outcome | None:
    if summary is None:
        return None
    in_window = span.holds(summary.last_backup_at)
    if summary.current_operation not in (None, "", _NO_OPERATION) and not in_window:
        # Something runs now, and no result of this window is recorded yet: it is that run.
        return Running(None)
    if not in_window:
        return None
    if _succeeded(summary.result_hresult, summary.detailed_hresult):
        return Succeeded(summary.last_backup_at, None)
    code = explained(summary.result_hresult, summary.detailed_hresult)
    return Failed(
        summary.last_backup_at,
        None,
        code,
        summary.detailed_hresult or None,
        meaning_key(code) if code else None,
        (),
        summary.detailed_message,
    )


def _from_events(events: Sequence[BackupEvent], span: _Span) -> Outcome | None:
    window = sorted((e for e in events if span.holds(e.at)), key=lambda e: e.at)
    # The window's run: its first start, ended by the first ending event after it.
    started: datetime | None = None
    for event in window:
        if event.id in EVENT_STARTED:
            if started is None:
                started = event.backup_at or event.at
            continue
        ended = _ending(event, event.backup_at or started)
        if ended is not None:
            return ended
    return Running(started) if started is not None else None


def _ending(event: BackupEvent, begun: datetime | None) -> Outcome | None:
    code = explained(event.hresult, event.detailed_hresult)
    if event.id in EVENT_FAILED or (event.id in EVENT_COMPLETED and code is not None):
        return Failed(
            begun,
            event.at,
            code,
            event.detailed_hresult or None,
            meaning_key(code) if code else None,
            (),
            None,
        )
    if event.id in EVENT_WARNINGS:
        return CompletedWithWarnings(begun, event.at, ())
    if event.id in EVENT_SUCCEEDED | EVENT_COMPLETED:
        return Succeeded(begun, event.at)
    return None
