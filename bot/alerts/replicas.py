"""Liveness across replicas, pure: who is alive given the heartbeats and the time, and which
lead-time checks nobody ran because every replica was down."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.schedule.plan import RunRecord
from checks.inventory import Server
from checks.windows import check_time, next_window

__all__ = ["Heartbeat", "MissedCheck", "Outage", "alive", "missed_checks", "outage"]

# A replica beats every BEAT; three missed beats (a slow database, a long GC) is death.
BEAT = timedelta(seconds=30)
STALE = 3 * BEAT
# Runs older than this are pruned from the plan's view: an outage is looked at this far back.
LOOKBACK = timedelta(days=7)
MAX_WINDOWS = 32  # per server and outage: four a day for a week, with room


@dataclass(frozen=True)
class Heartbeat:
    """A replica as stored: where it runs, when it started, when it last beat or stopped."""

    replica: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    stopped_at: datetime | None = None

    def alive(self, now: datetime, stale: timedelta = STALE) -> bool:
        """Whether it beat recently and did not say it stopped."""
        return self.stopped_at is None and now - self.seen_at <= stale

    @property
    def last_sign(self) -> datetime:
        """The last moment it is known to have been up."""
        return max(self.seen_at, self.stopped_at or self.seen_at)


@dataclass(frozen=True)
class Outage:
    """No replica was up from `since` (the last sign of life) until `until` (one came up)."""

    since: datetime
    until: datetime


@dataclass(frozen=True)
class MissedCheck:
    """A lead-time check that no replica ran, because all were down at its time."""

    server: str
    window_at: datetime
    due_at: datetime

    @property
    def key(self) -> str:
        """The outbox key: replicas coming up together post the notice once."""
        return f"missed/{self.server}/{self.window_at.isoformat()}"


def alive(beats: Iterable[Heartbeat], now: datetime, stale: timedelta = STALE) -> list[Heartbeat]:
    """The replicas alive at `now`, oldest first."""
    return sorted((b for b in beats if b.alive(now, stale)), key=lambda b: b.started_at)


def outage(
    beats: Iterable[Heartbeat], me: str, now: datetime, stale: timedelta = STALE
) -> Outage | None:
    """The gap before `me` came up at `now` when no other replica was alive; None when one was,
    or when none ever beat (a new database: nothing was expected to run)."""
    others = [b for b in beats if b.replica != me]
    if not others or any(b.alive(now, stale) for b in others):
        return None
    since = max(b.last_sign for b in others)
    # A restart within a few beats (a rolling deploy of one replica) is no outage.
    return Outage(since, now) if now - since > stale else None


def missed_checks(
    servers: Iterable[Server],
    discovered: Mapping[str, tuple[datetime | None, datetime]],
    runs: Iterable[RunRecord],
    down: Outage,
    jitter: timedelta,
    grace: timedelta,
) -> list[MissedCheck]:
    """The lead-time checks due while every replica was down that did not run and will not:
    a check less than `grace` late whose window is still ahead runs now, as the plan says."""
    ran = {(r.server, r.window_at) for r in runs if r.kind == "check" and r.state == "done"}
    start = max(down.since, down.until - LOOKBACK)
    found = []
    for server in servers:
        seen = discovered.get(server.name, (None, None))[0]
        after = start
        for _ in range(MAX_WINDOWS):
            window = next_window(server, seen, after)
            if window is None:
                break
            due = check_time(server, window, jitter)
            if due >= down.until:
                break
            runs_late = down.until - due <= grace and window > down.until
            if due >= start and (server.name, window) not in ran and not runs_late:
                found.append(MissedCheck(server.name, window, due))
            after = window
    return sorted(found, key=lambda m: (m.due_at, m.server))


@dataclass(frozen=True)
class Held:
    """A check a replica runs under a live lease."""

    server: str
    kind: str
    window_at: datetime
    lease_until: datetime


@dataclass(frozen=True)
class ReplicaStatus:
    """What a status view shows: the replicas, what each holds, and the servers' schedules."""

    beats: list[Heartbeat]
    held: dict[str, list[Held]]  # by replica
    sending: dict[str, int]  # by replica: outbox messages under its lease
    discovered: Mapping[str, tuple[datetime | None, datetime]]
