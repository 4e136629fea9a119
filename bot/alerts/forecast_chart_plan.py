"""Whether a forecast alert's thread gets its chart now, which volumes it shows and what the
upload is called. Pure: the alert's stored state, the day and the trends in, the answer out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from bot.charts.series import VolumeTrend

# Charts in one morning's upload: the alert names every volume at risk, the thread shows the
# soonest failing ones (`/backupcheck trend` shows any other).
MAX_CHARTS = 4


class Skip(StrEnum):
    """Why no chart goes into the thread this morning."""

    GONE = "the alert is gone"
    RESOLVED = "the alert is resolved"
    SILENCED = "the server is silenced"
    DIGEST = "the alert is in its window's digest"
    CHARTED = "today's chart is already in the thread"
    NOT_POSTED = "the alert's message is not in Slack yet"


@dataclass(frozen=True)
class ChartState:
    """What the store knows of the alert when its chart is considered."""

    resolved_at: datetime | None
    silenced_until: datetime | None
    in_digest: bool  # the alert is an entry in its window's digest thread
    charted_on: date | None  # the day its last chart went into the thread
    thread_ts: str | None  # the alert message's ts, once Slack accepted it


def chart_skip(state: ChartState, now: datetime, today: date) -> Skip | None:
    """None when the chart goes into the alert's thread now, else why not. One chart a day:
    each morning's figures replace yesterday's in the message, and the thread's newest chart
    shows the same morning's. A digest's thread holds many servers: a chart each would bury it."""
    if state.resolved_at is not None:
        return Skip.RESOLVED
    if state.silenced_until is not None and state.silenced_until > now:
        return Skip.SILENCED
    if state.in_digest:
        return Skip.DIGEST
    if state.charted_on == today:
        return Skip.CHARTED
    if state.thread_ts is None:
        return Skip.NOT_POSTED
    return None


def charted(trends: Sequence[VolumeTrend], at_risk: Mapping[str, datetime]) -> list[VolumeTrend]:
    """The trends of the volumes at risk (volume id: its first window at risk), each marking
    that window as the alert names it; the soonest first, at most MAX_CHARTS."""
    marked = [
        replace(t, highlight=at_risk[t.series.volume_id])
        for t in trends
        if t.series.volume_id in at_risk
    ]
    marked.sort(key=lambda t: (at_risk[t.series.volume_id], t.series.label.casefold()))
    return marked[:MAX_CHARTS]
