"""When a server's survey checks and its morning forecast run: pure, like plan.py, which adds
these jobs to each server's. A survey reads the server on a fixed period, whatever its backup
window, so that every volume has a steady history; the forecast job runs at a civil hour of
the server's working days and decides its forecast alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from checks.inventory import WEEKDAYS, Server, Weekday
from checks.windows import jitter_for

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the refresh before a server's first; periods start here
# Surveys of many servers spread over this share of their period (at most an hour), so that
# a fleet's surveys do not all start at once.
SPREAD_SHARE = 6
MAX_SPREAD = timedelta(hours=1)


@dataclass(frozen=True)
class ForecastTiming:
    """How often servers are surveyed, and when (server's local time, which days) forecasts run."""

    survey_every: timedelta = timedelta(hours=6)
    notify_at: time = time(9, 30)
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")

    @property
    def survey_spread(self) -> timedelta:
        """The jitter of each server's survey within its period."""
        return min(self.survey_every / SPREAD_SHARE, MAX_SPREAD)


@dataclass(frozen=True)
class Periodic:
    """One survey or forecast of a server: the moment it is for (its claim's key) and its time."""

    kind: Literal["survey", "forecast"]
    at: datetime
    run_at: datetime


def surveys(server: Server, now: datetime, timing: ForecastTiming) -> list[Periodic]:
    """The survey of the period holding `now` (periods counted from 1970 in UTC) and the next
    one. Each runs at its period's start plus the server's own jitter."""
    every = timing.survey_every
    start = NEVER + every * ((now - NEVER) // every)
    offset = jitter_for(server.name, timing.survey_spread)
    return [Periodic("survey", at, at + offset) for at in (start, start + every)]


def next_forecast(
    server: Server, now: datetime, timing: ForecastTiming, grace: timedelta
) -> Periodic | None:
    """The first forecast time, on a working day in the server's zone (UTC when it has none),
    that is not more than `grace` ago; None when no day is a working day."""
    zone = ZoneInfo(server.timezone) if server.timezone else UTC
    since = now - grace
    day = since.astimezone(zone).date()
    for ahead in range(8):
        date = day + timedelta(days=ahead)
        if WEEKDAYS[date.weekday()] not in timing.days:
            continue
        # A local time that a DST change skips or repeats maps to one instant (fold=0).
        at = datetime.combine(date, timing.notify_at, tzinfo=zone).astimezone(UTC)
        if at >= since:
            return Periodic("forecast", at, at)
    return None


def periodic(
    server: Server, now: datetime, timing: ForecastTiming | None, grace: timedelta
) -> list[Periodic]:
    """A server's surveys and its next forecast; none when forecasting is off."""
    if timing is None:
        return []
    forecast = next_forecast(server, now, timing, grace)
    return surveys(server, now, timing) + ([forecast] if forecast else [])
