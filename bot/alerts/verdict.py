"""What the bot concluded about one backup window after it: a small record that an alert keeps,
the outcome table stores, and the messages render. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from checks.outcome import CompletedWithWarnings, Failed, NotRun, Outcome, Running, Succeeded


class VerdictKind(StrEnum):
    """How the window ended, as far as the bot could tell."""

    SUCCEEDED = "succeeded"
    WARNINGS = "warnings"  # finished, but some items were not backed up
    FAILED = "failed"
    NOT_RUN = "not_run"
    STILL_RUNNING = "still_running"  # still running when the bot stopped waiting
    UNKNOWN = "unknown"  # the server or its backup record could not be read until then

    @property
    def good(self) -> bool:
        """Whether nobody needs to look at it."""
        return self is VerdictKind.SUCCEEDED


@dataclass(frozen=True)
class WindowVerdict:
    """One window's outcome; `waited` is how long the bot polled when it gave up."""

    kind: VerdictKind
    started_at: datetime | None = None
    ended_at: datetime | None = None
    hresult: int | None = None
    items: tuple[str, ...] = ()  # the items (volumes, system state) that failed
    last_backup_at: datetime | None = None  # not run: the server's latest backup
    next_backup_at: datetime | None = None  # not run: its next scheduled one, if any
    waited: timedelta | None = None
    # When the bot reached it: what an escalation counts from. Not part of the verdict itself,
    # so the same reading repeated after a takeover is still the same verdict.
    decided_at: datetime | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """For a JSON column."""
        return {
            "kind": self.kind.value,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "hresult": self.hresult,
            "items": list(self.items),
            "last_backup_at": _iso(self.last_backup_at),
            "next_backup_at": _iso(self.next_backup_at),
            "waited_s": int(self.waited.total_seconds()) if self.waited is not None else None,
            "decided_at": _iso(self.decided_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowVerdict:
        """Back from a JSON column."""
        waited = data.get("waited_s")
        return cls(
            kind=VerdictKind(data["kind"]),
            started_at=_moment(data.get("started_at")),
            ended_at=_moment(data.get("ended_at")),
            hresult=data.get("hresult"),
            items=tuple(str(i) for i in data.get("items") or ()),
            last_backup_at=_moment(data.get("last_backup_at")),
            next_backup_at=_moment(data.get("next_backup_at")),
            waited=timedelta(seconds=waited) if waited is not None else None,
            decided_at=_moment(data.get("decided_at")),
        )


def finished_verdict(outcome: Outcome) -> WindowVerdict | None:
    """The verdict of an outcome that ends the window's run; None while it may still change."""
    if isinstance(outcome, Succeeded):
        return WindowVerdict(VerdictKind.SUCCEEDED, outcome.started_at, outcome.ended_at)
    if isinstance(outcome, CompletedWithWarnings):
        items = tuple(i.name or "?" for i in outcome.failed_items)
        return WindowVerdict(
            VerdictKind.WARNINGS, outcome.started_at, outcome.ended_at, None, items
        )
    if isinstance(outcome, Failed):
        items = tuple(i.name or "?" for i in outcome.failed_items)
        return WindowVerdict(
            VerdictKind.FAILED, outcome.started_at, outcome.ended_at, outcome.hresult, items
        )
    if isinstance(outcome, NotRun):
        return WindowVerdict(
            VerdictKind.NOT_RUN,
            last_backup_at=outcome.last_backup_at,
            next_backup_at=outcome.next_backup_at,
        )
    return None


def gave_up_verdict(last: Outcome | None, waited: timedelta) -> WindowVerdict:
    """The verdict when the bot stops waiting: still running, or not known."""
    if isinstance(last, Running):
        return WindowVerdict(VerdictKind.STILL_RUNNING, last.started_at, waited=waited)
    return WindowVerdict(VerdictKind.UNKNOWN, waited=waited)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None
