"""A server's last backup windows as history lines: what the check before each said, how the
backup went, who took its alert and after how long, and the space freed before it. Pure: stored
rows in, lines and their words out; the terminal and Slack show the same words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from bot.alerts.verdict import VerdictKind, WindowVerdict
from checks.hresults import describe
from checks.i18n import Catalog

WINDOWS = 14  # how many windows the history shows
# The first window shown has no earlier one to bound it: its fix is looked for this far back.
FIRST_LOOKBACK = timedelta(days=1)


class OutcomeRow(Protocol):
    """A stored window verdict (verify_store.StoredOutcome has these)."""

    @property
    def window_at(self) -> datetime: ...
    @property
    def precheck(self) -> str | None: ...
    @property
    def verdict(self) -> WindowVerdict: ...
    @property
    def acknowledged_by(self) -> str | None: ...
    @property
    def acknowledged_after(self) -> timedelta | None: ...


class ReadingRow(Protocol):
    """A stored volume reading (history.Reading has these)."""

    @property
    def checked_at(self) -> datetime: ...
    @property
    def volume_id(self) -> str: ...
    @property
    def free_bytes(self) -> int: ...


@dataclass(frozen=True)
class HistoryLine:
    """One window: `freed_bytes` is None when the checks before it freed nothing."""

    window_at: datetime
    precheck: str | None
    verdict: WindowVerdict
    acknowledged_by: str | None
    acknowledged_after: timedelta | None
    freed_bytes: int | None


def history_lines(
    outcomes: Sequence[OutcomeRow], readings: Sequence[ReadingRow], limit: int = WINDOWS
) -> list[HistoryLine]:
    """The latest `limit` windows, newest first. The space freed is the net gain in free space
    over all volumes between the first check after the window before and the last check
    before this one."""
    ordered = sorted(outcomes, key=lambda o: o.window_at)[-limit:]
    lines = []
    for n, row in enumerate(ordered):
        since = ordered[n - 1].window_at if n else row.window_at - FIRST_LOOKBACK
        freed = freed_between(readings, since, row.window_at)
        lines.append(
            HistoryLine(
                row.window_at,
                row.precheck,
                row.verdict,
                row.acknowledged_by,
                row.acknowledged_after,
                freed if freed > 0 else None,
            )
        )
    return lines[::-1]


def freed_between(readings: Sequence[ReadingRow], since: datetime, until: datetime) -> int:
    """Free space gained over all volumes from their first reading after `since` to their last
    before `until` (negative when it shrank; 0 with fewer than two readings of a volume)."""
    first: dict[str, tuple[datetime, int]] = {}
    last: dict[str, tuple[datetime, int]] = {}
    for r in readings:
        if not since < r.checked_at < until:
            continue
        if r.volume_id not in first or r.checked_at < first[r.volume_id][0]:
            first[r.volume_id] = (r.checked_at, r.free_bytes)
        if r.volume_id not in last or r.checked_at >= last[r.volume_id][0]:
            last[r.volume_id] = (r.checked_at, r.free_bytes)
    return sum(last[v][1] - first[v][1] for v in first)


@dataclass(frozen=True)
class LineText:
    """A history line's cells, as people read them."""

    window: str
    precheck: str
    outcome: str
    acknowledged: str
    freed: str


def line_text(line: HistoryLine, zone: tzinfo, t: Catalog, who: str | None = None) -> LineText:
    """The cells of one line, times in the server's `zone`; `who` shows the acknowledger
    (a Slack mention), else their user id."""
    none = t.text("history.none")
    precheck = t.text(f"status.{line.precheck}") if line.precheck else none
    acknowledged = none
    if line.acknowledged_by is not None:
        name = who or line.acknowledged_by
        if line.acknowledged_after is None:
            acknowledged = name
        else:
            minutes = max(0, round(line.acknowledged_after / timedelta(minutes=1)))
            acknowledged = t.text("history.acknowledged_after", who=name, minutes=minutes)
    freed = t.size(line.freed_bytes) if line.freed_bytes is not None else none
    return LineText(
        t.datetime(line.window_at, zone),
        precheck,
        outcome_text(line.verdict, t),
        acknowledged,
        freed,
    )


def outcome_text(verdict: WindowVerdict, t: Catalog) -> str:
    """How the window's backup went, in a few words; a failure with its code's meaning."""
    if verdict.kind is VerdictKind.FAILED and verdict.hresult is not None:
        said = describe(verdict.hresult, t)
        return t.text("history.failed_code", code=said.code, meaning=said.meaning)
    return t.text(f"history.outcome_{verdict.kind.value}")
