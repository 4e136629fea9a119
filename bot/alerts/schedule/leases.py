"""Who runs a scheduled job when several replicas share the database: pure, given the stored
claim and the time. Every job is claimed under a key: a check for its server's window, a
discovery for the server's last refresh, retention for its period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.alerts.schedule.plan import NEVER, Job

__all__ = ["EVERYWHERE", "Claim", "Decision", "Key", "Verdict", "decide", "key_of", "period_key"]

# The server of the claims that concern no one server (retention).
EVERYWHERE = "*"


class Verdict(StrEnum):
    """What a replica does with a due check."""

    CLAIM = "claim"  # nobody claimed it yet
    TAKE_OVER = "take_over"  # claimed by a replica whose lease ran out before it finished
    LEAVE = "leave"  # it finished, or someone holds a live lease on it
    GIVE_UP = "give_up"  # nobody runs it and its window started: too late to warn anyone


@dataclass(frozen=True)
class Claim:
    """A run as stored: who holds it, until when, and whether it finished."""

    owner: str | None
    lease_until: datetime | None
    state: str  # running, done, missed


@dataclass(frozen=True)
class Key:
    """What one claim is for, the same on every replica: a kind of job, its server and a
    moment (a window, or the start of a period), with the deadline after which nobody runs it
    (None: never too late)."""

    server: str
    kind: str
    at: datetime
    deadline: datetime | None
    due_at: datetime  # when it became due, as recorded


def key_of(job: Job) -> Key:
    """A planned job's key: a check or re-check is for its window and pointless once the
    backup started; a discovery is for the refresh its plan saw (its window_at), a survey or
    forecast for its period or day, a verification for its window, read until it has a verdict
    (verify_plan.py): never late."""
    deadline = job.window_at if job.kind in ("check", "recheck") else None
    return Key(job.server, job.kind, job.window_at, deadline, job.run_at)


def period_key(kind: str, now: datetime, every: timedelta) -> Key:
    """The key of a job that runs once per period of `every` (counted from 1970 in UTC) on
    whichever replica gets there first: the period that holds `now`."""
    start = NEVER + every * ((now - NEVER) // every)
    return Key(EVERYWHERE, kind, start, start + every, now)


@dataclass(frozen=True)
class Decision:
    """A verdict and a time: a claim's lease end, or when to look again (None: never)."""

    verdict: Verdict
    until: datetime | None = None

    @property
    def runs(self) -> bool:
        """Whether this replica runs the check now."""
        return self.verdict in (Verdict.CLAIM, Verdict.TAKE_OVER)


def decide(
    stored: Claim | None, now: datetime, deadline: datetime | None, lease: timedelta
) -> Decision:
    """What to do with a due job whose run is stored as `stored` (None: no row yet), given
    the deadline after which it is pointless (a check's window; None: never)."""
    if stored is not None and stored.state != "running":
        return Decision(Verdict.LEAVE)  # done or given up: a finished run is never run again
    if stored is not None and stored.lease_until is not None and stored.lease_until > now:
        # Its holder may be alive: the earliest anyone may take it over is the lease's end.
        return Decision(Verdict.LEAVE, stored.lease_until)
    # No lease (nobody, a dead holder, or a row from before leases): free, unless too late.
    if deadline is not None and now >= deadline:
        return Decision(Verdict.GIVE_UP)
    return Decision(Verdict.CLAIM if stored is None else Verdict.TAKE_OVER, now + lease)
