"""Who runs a scheduled check when several replicas share the database: pure, given the stored
claim, the time and this replica's id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["Claim", "Decision", "Verdict", "decide"]


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
class Decision:
    """A verdict and a time: a claim's lease end, or when to look again (None: never)."""

    verdict: Verdict
    until: datetime | None = None

    @property
    def runs(self) -> bool:
        """Whether this replica runs the check now."""
        return self.verdict in (Verdict.CLAIM, Verdict.TAKE_OVER)


def decide(stored: Claim | None, now: datetime, window_at: datetime, lease: timedelta) -> Decision:
    """What to do with a due check whose run is stored as `stored` (None: no row yet)."""
    if stored is not None and stored.state != "running":
        return Decision(Verdict.LEAVE)  # done or given up: a finished run is never run again
    if stored is not None and stored.lease_until is not None and stored.lease_until > now:
        # Its holder may be alive: the earliest anyone may take it over is the lease's end.
        return Decision(Verdict.LEAVE, stored.lease_until)
    # No lease (nobody, a dead holder, or a row from before leases): free, unless too late.
    if now >= window_at:
        return Decision(Verdict.GIVE_UP)
    return Decision(Verdict.CLAIM if stored is None else Verdict.TAKE_OVER, now + lease)
