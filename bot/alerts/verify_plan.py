"""After each backup window: when to read the server again, when to stop waiting, and what the
window's alert becomes. Pure, so tests walk through a night by passing `now`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from bot.alerts.lifecycle import Alert, Effect, Transition
from bot.alerts.schedule.plan import Job, RunRecord
from bot.alerts.verdict import VerdictKind, WindowVerdict, finished_verdict, gave_up_verdict
from checks.inventory import Server
from checks.outcome import Outcome
from checks.report import Status
from checks.windows import configured_window

VERIFY: Final = "verify"  # the job kind, and the kind of its claims
# The checks before a window are what make a window worth verifying.
_CHECKS = frozenset({"check", "recheck", VERIFY})
_SEVERITY = {
    VerdictKind.SUCCEEDED: Status.OK,
    VerdictKind.WARNINGS: Status.WARNING,
    VerdictKind.FAILED: Status.CRITICAL,
    VerdictKind.NOT_RUN: Status.CRITICAL,
    VerdictKind.STILL_RUNNING: Status.WARNING,
    VerdictKind.UNKNOWN: Status.UNKNOWN,
}


@dataclass(frozen=True)
class VerifyPolicy:
    """When the verification of a window starts, how often it reads, and when it stops."""

    enabled: bool = True
    delay: timedelta = timedelta(minutes=10)
    every: timedelta = timedelta(minutes=5)
    timeout: timedelta = timedelta(minutes=360)
    post_success: bool = False
    # The least severe verdict that opens an alert of its own (alerts.min_severity).
    min_severity: Status = Status.WARNING


@dataclass(frozen=True)
class VerifyJobs:
    """Verifications due now and later; `held`: those parked or leased until a time, by id."""

    due: list[Job] = field(default_factory=list)
    later: list[Job] = field(default_factory=list)
    held: dict[str, datetime] = field(default_factory=dict)


def verify_jobs(
    servers: Iterable[Server], runs: Iterable[RunRecord], now: datetime, policy: VerifyPolicy
) -> VerifyJobs:
    """The verification of every window that started within the timeout, or whose
    verification is under way; one job per server and window until it has a verdict."""
    result = VerifyJobs()
    if not policy.enabled:
        return result
    names = {s.name: s for s in servers}
    windows: set[tuple[str, datetime]] = set()
    ended: set[tuple[str, datetime]] = set()
    parked: dict[tuple[str, datetime], datetime] = {}
    for r in runs:
        if r.server not in names or r.window_at > now or r.kind not in _CHECKS:
            continue
        if r.kind != VERIFY:
            windows.add((r.server, r.window_at))
        elif r.state in ("done", "missed"):
            ended.add((r.server, r.window_at))
        else:
            windows.add((r.server, r.window_at))
            if r.lease_until is not None:
                parked[(r.server, r.window_at)] = r.lease_until
    for server in names.values():
        # A window that passed while the bot was down has no check run to say it was there.
        passed = configured_window(server, now - policy.timeout)
        if passed is not None and passed <= now:
            windows.add((server.name, passed))
    for server_name, window_at in sorted(windows):
        key = (server_name, window_at)
        under_way = key in parked
        if key in ended or (not under_way and now >= window_at + policy.timeout):
            continue
        job = Job(server_name, VERIFY, window_at, window_at + policy.delay)
        if under_way and parked[key] > now:
            result.held[job.id] = parked[key]
        (result.due if job.run_at <= now else result.later).append(job)
    return result


@dataclass(frozen=True)
class Again:
    """Read the server again at `at`."""

    at: datetime


@dataclass(frozen=True)
class Done:
    """The window has its verdict."""

    verdict: WindowVerdict


def next_step(
    outcome: Outcome | None, window_at: datetime, now: datetime, policy: VerifyPolicy
) -> Again | Done:
    """After one reading (outcome None: the server could not be read): done, or when next."""
    verdict = finished_verdict(outcome) if outcome is not None else None
    if verdict is not None:
        return Done(verdict)
    give_up_at = window_at + policy.timeout
    if now >= give_up_at:
        return Done(gave_up_verdict(outcome, now - window_at))
    return Again(min(now + policy.every, give_up_at))


def on_verdict(
    alert: Alert | None,
    verdict: WindowVerdict,
    server: str,
    window_at: datetime,
    now: datetime,
    policy: VerifyPolicy,
    silenced: bool = False,
) -> Transition:
    """What a window's verdict does to its alert: a success closes it as verified; anything
    else keeps it open (or reopens it) marked with the verdict. Without an alert, a verdict
    that needs someone opens one, unless the server is silenced; a success posts only when
    configured to."""
    verdict = replace(verdict, decided_at=now)
    if alert is not None:
        if alert.outcome == verdict:  # told already (a reading repeated after a takeover)
            return Transition(alert)
        if verdict.kind.good:
            closed = replace(alert, outcome=verdict, resolved_at=alert.resolved_at or now)
            return Transition(closed, (Effect.UPDATE_ALERT, Effect.REPLY_OUTCOME))
        marked = replace(alert, outcome=verdict, resolved_at=None, severity=_SEVERITY[verdict.kind])
        return Transition(marked, (Effect.UPDATE_ALERT, Effect.REPLY_OUTCOME))
    if verdict.kind.good:
        if not policy.post_success or silenced:
            return Transition(None)
        told = Alert(server, window_at, Status.OK, (), now, resolved_at=now, outcome=verdict)
        return Transition(told, (Effect.POST_ALERT,))
    if silenced or _SEVERITY[verdict.kind].rank < policy.min_severity.rank:
        return Transition(None)
    opened = Alert(server, window_at, _SEVERITY[verdict.kind], (), now, outcome=verdict)
    return Transition(opened, (Effect.POST_ALERT, Effect.REPLY_OUTCOME))
