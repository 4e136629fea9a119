"""The weekly summary: how the last week's backups went, how many failures the pre-check saw
coming, how fast people acknowledged, and the volumes closest to their floor. Pure: plain rows
in, figures and words out; summary_job.py reads the rows and posts through the outbox."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol

from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.slack.blocks import escape
from checks.i18n import Catalog

WEEK = timedelta(days=7)
CLOSEST = 5  # volumes listed as closest to their floor
# Posted within a day of its moment, or not at all: a bot down all Monday skips that week.
LATE_BY = timedelta(days=1)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKLY_AT = re.compile(r"(?i)(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)")
# A failure the check before the window warned about.
_WARNED = frozenset({"warning", "critical"})
_FAILED = frozenset({VerdictKind.FAILED, VerdictKind.NOT_RUN})


class WindowRow(Protocol):
    """A verified window (verify_store.StoredOutcome has these)."""

    @property
    def server(self) -> str: ...
    @property
    def precheck(self) -> str | None: ...
    @property
    def verdict(self) -> WindowVerdict: ...
    @property
    def acknowledged_after(self) -> timedelta | None: ...


@dataclass(frozen=True)
class Headroom:
    """A volume's latest free space above the minimum its shadow copy needs (negative: below)."""

    server: str
    volume: str
    free_bytes: int
    required_free_bytes: int

    @property
    def above(self) -> int:
        """Bytes above the floor."""
        return self.free_bytes - self.required_free_bytes


@dataclass(frozen=True)
class WeeklySummary:
    """The week's figures; `median_ack` is None when nobody acknowledged anything."""

    since: datetime
    until: datetime
    ran: int
    succeeded: int
    failed: int
    predicted: int
    unpredicted: int
    median_ack: timedelta | None
    closest: tuple[Headroom, ...]


def parse_weekly_at(text: str) -> tuple[int, time] | None:
    """ "Mon 09:00" as (0, 09:00); None unless it is a weekday and a 24-hour time."""
    match = WEEKLY_AT.fullmatch(text.strip())
    if match is None:
        return None
    return DAYS.index(match.group(1).lower()), time(int(match.group(2)), int(match.group(3)))


def last_moment(now: datetime, weekday: int, at: time, zone: tzinfo) -> datetime:
    """The latest weekly moment (weekday and time in `zone`) at or before `now`."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, at, tzinfo=zone)
    return moment if moment <= now else datetime.combine(day - WEEK, at, tzinfo=zone)


def weekly_summary(
    windows: Sequence[WindowRow], volumes: Sequence[Headroom], since: datetime, until: datetime
) -> WeeklySummary:
    """The figures of the windows verified in [since, until) and the volumes' latest space."""
    ran = [w for w in windows if w.verdict.kind is not VerdictKind.NOT_RUN]
    failed = [w for w in windows if w.verdict.kind in _FAILED]
    predicted = [w for w in failed if w.precheck in _WARNED]
    acks = [w.acknowledged_after for w in windows if w.acknowledged_after is not None]
    closest = sorted(volumes, key=lambda v: (v.above, v.server, v.volume))[:CLOSEST]
    return WeeklySummary(
        since,
        until,
        ran=len(ran),
        succeeded=sum(1 for w in windows if w.verdict.kind is VerdictKind.SUCCEEDED),
        failed=len(failed),
        predicted=len(predicted),
        unpredicted=len(failed) - len(predicted),
        median_ack=timedelta(seconds=statistics.median(a.total_seconds() for a in acks))
        if acks
        else None,
        closest=tuple(closest),
    )


def summary_text(summary: WeeklySummary, zone: tzinfo, t: Catalog) -> str:
    """The message: the period in `zone`, then one line per figure, then the volumes."""
    lines = [
        t.text(
            "summary_weekly.title",
            since=t.datetime(summary.since, zone),
            until=t.datetime(summary.until, zone),
        ),
        t.text(
            "summary_weekly.backups",
            ran=summary.ran,
            succeeded=summary.succeeded,
            failed=summary.failed,
        ),
        t.text(
            "summary_weekly.predicted",
            predicted=summary.predicted,
            unpredicted=summary.unpredicted,
        ),
    ]
    if summary.median_ack is None:
        lines.append(t.text("summary_weekly.no_acks"))
    else:
        minutes = round(summary.median_ack / timedelta(minutes=1))
        lines.append(t.text("summary_weekly.median_ack", minutes=minutes))
    if summary.closest:
        lines.append(t.text("summary_weekly.closest"))
        for v in summary.closest:
            key = "summary_weekly.volume" if v.above >= 0 else "summary_weekly.volume_below"
            lines.append(
                t.text(
                    key,
                    server=escape(v.server),
                    volume=escape(v.volume),
                    free=t.size(v.free_bytes),
                    floor=t.size(v.required_free_bytes, round_up=True),
                    margin=t.size(abs(v.above)),
                )
            )
    return "\n".join(lines)
