"""What the scheduler should run and when: pure, so tests move time by passing `now`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.alerts.schedule.survey import NEVER, ForecastTiming, periodic
from checks.inventory import Server
from checks.windows import jitter_for, next_window

# jitter_for lives beside the windows, so that `backupcheck windows` shows the same check times.
__all__ = ["NEVER", "Job", "JobKind", "Plan", "RunRecord", "SchedulePolicy", "jitter_for", "plan"]

JobKind = Literal["check", "recheck", "discover", "verify", "survey", "forecast"]


@dataclass(frozen=True)
class SchedulePolicy:
    """Timing of scheduled checks."""

    recheck_before: timedelta = timedelta(minutes=15)
    jitter: timedelta = timedelta(minutes=2)
    grace: timedelta = timedelta(minutes=30)
    # How often a server's own schedule is read again when backup_times are not configured.
    refresh_every: timedelta = timedelta(hours=24)
    # A server whose schedule could not be read (unreachable, no policy) is asked again this often.
    retry_unknown_every: timedelta = timedelta(hours=1)
    # Survey checks and the morning forecast (survey.py); None: neither.
    forecast: ForecastTiming | None = None


@dataclass(frozen=True)
class Job:
    """One check of one server: before a window (check), again while its alert is open
    (recheck), to learn the server's own schedule (discover; its window_at is then the
    stored refresh it follows), or after a window, how its backup went (verify); a survey or
    forecast (survey.py) is for its period or day."""

    server: str
    kind: JobKind
    window_at: datetime
    run_at: datetime

    @property
    def id(self) -> str:
        """Stable across restarts and plan refreshes, so re-adding a job replaces it."""
        if self.kind == "discover":  # one pending discovery per server, whatever the time
            return f"discover:{self.server}"
        return f"{self.kind}:{self.server}:{self.window_at.isoformat()}"


@dataclass(frozen=True)
class RunRecord:
    """A scheduled run as stored: running (leased until lease_until), done, or missed."""

    server: str
    window_at: datetime
    kind: str
    state: str
    finished_at: datetime | None
    lease_until: datetime | None = None


@dataclass(frozen=True)
class Plan:
    """Jobs to run now, jobs for later, and jobs whose time passed too long ago; `held`: the
    due jobs a replica runs under a lease, by id, with when that lease ends."""

    due: list[Job] = field(default_factory=list)
    later: list[Job] = field(default_factory=list)
    missed: list[Job] = field(default_factory=list)
    windows: dict[str, datetime | None] = field(default_factory=dict)
    held: dict[str, datetime] = field(default_factory=dict)


def plan(
    servers: Iterable[Server],
    discovered: Mapping[str, tuple[datetime | None, datetime]],
    runs: Iterable[RunRecord],
    open_alerts: Iterable[tuple[str, datetime]],
    now: datetime,
    policy: SchedulePolicy,
) -> Plan:
    """Every server's jobs at `now`, from its window, what already ran and which alerts are open."""
    finished: set[tuple[str, datetime, str]] = set()
    leased: dict[tuple[str, datetime, str], datetime] = {}
    for r in runs:
        if r.state in ("done", "missed"):
            finished.add((r.server, r.window_at, r.kind))
        elif r.lease_until is not None and r.lease_until > now:
            leased[(r.server, r.window_at, r.kind)] = r.lease_until
    alerting = set(open_alerts)
    result = Plan()
    for server in servers:
        seen_next, refreshed_at = discovered.get(server.name, (None, None))
        window = next_window(server, seen_next, now)
        result.windows[server.name] = window
        age = now - refreshed_at if refreshed_at is not None else None
        stale = age is None or age >= policy.refresh_every
        unknown = window is None and (age is None or age >= policy.retry_unknown_every)
        if not server.backup_times and (stale or unknown):
            # Its window_at is the refresh it follows: replicas that plan it from the same
            # stored refresh claim the same discovery, and only one of them runs it.
            discover = Job(server.name, "discover", refreshed_at or NEVER, now)
            result.due.append(discover)
            if (server.name, discover.window_at, "discover") in leased:
                result.held[discover.id] = leased[(server.name, discover.window_at, "discover")]
        wanted = [
            Job(server.name, p.kind, p.at, p.run_at)
            for p in periodic(server, now, policy.forecast, policy.grace)
        ]
        if window is not None:
            wanted += _lead_time_jobs(server, window, (server.name, window) in alerting, policy)
        for job in wanted:
            key = (job.server, job.window_at, job.kind)
            if key in finished:
                continue
            if key in leased:  # someone runs it, however late: not missed, and not ours yet
                result.held[job.id] = leased[key]
            if job.run_at > now:
                result.later.append(job)
            elif now - job.run_at <= policy.grace or key in leased or job.kind == "survey":
                # A survey is worth running any time within its period (none is ever missed).
                result.due.append(job)
            else:
                result.missed.append(job)
    return result


def _lead_time_jobs(
    server: Server, window: datetime, alerting: bool, policy: SchedulePolicy
) -> list[Job]:
    """The check before a window, and its re-check while the window's alert is open."""
    offset = jitter_for(server.name, policy.jitter)
    check = Job(
        server.name, "check", window, window - timedelta(minutes=server.lead_time_min) - offset
    )
    wanted = [check]
    if alerting:
        recheck_spread = min(policy.jitter, policy.recheck_before / 3)
        run_at = window - policy.recheck_before + jitter_for(server.name, recheck_spread)
        if run_at > check.run_at:  # a lead time shorter than the re-check's: no re-check
            wanted.append(Job(server.name, "recheck", window, run_at))
    return wanted
