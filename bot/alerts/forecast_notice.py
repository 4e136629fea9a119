"""The morning forecast alert: which volumes the forecast puts at risk, for which backup window,
and what that does to the window's alert. Pure: history and times in, the transition out.

A forecast alert is an ordinary alert for the backup window it names (the same row, buttons and
thread as the lead-time alert of that window), whose findings are forecasts only. The lead-time
check of that window later finds it and updates it in place with what it saw, in its thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from bot.alerts.lifecycle import Alert, Effect, Transition, fingerprint
from checks.forecast import (
    ForecastState,
    Observation,
    Policy,
    VolumeForecast,
    WindowForecast,
    forecast_volume,
)
from checks.i18n import Catalog, zone_label
from checks.inventory import Server
from checks.report import Finding, Report, Status, VolumeReport
from checks.windows import configured_window

FORECAST_CODE = "FORECAST_AT_RISK"
DAY = timedelta(days=1)
# Windows further ahead than this are named by their date, not by their weekday alone.
WEEKDAY_NAMES_UNTIL = timedelta(days=6)
DEFAULT_POLICY = Policy()
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class VolumeSeries:
    """One snapshotted volume's stored history, and the free space rule 2 asked of it when last
    checked (for a diff-area volume, the summed minimum of the volumes it hosts)."""

    volume_id: str
    name: str
    history: tuple[Observation, ...]
    minimum_bytes: int


@dataclass(frozen=True)
class AtRisk:
    """A volume whose forecast band reaches below its minimum at `window`."""

    volume: VolumeSeries
    forecast: VolumeForecast
    window: WindowForecast

    @property
    def bytes_to_free(self) -> int:
        """Enough to stay above the minimum for the horizon, and at the window even at the
        band's pessimistic edge."""
        minimum = self.volume.minimum_bytes
        return max(self.forecast.bytes_to_free or 0, minimum - self.window.low_bytes, 0)


def backup_windows(
    server: Server, discovered: datetime | None, now: datetime, until: datetime
) -> list[datetime]:
    """The server's backup windows in (now, until]: its configured times and days, else its
    own next run as last reported, taken to repeat daily at that time (as Windows Server
    Backup's daily schedules do)."""
    found: list[datetime] = []
    if server.backup_times:
        after = now
        while (nxt := configured_window(server, after)) is not None and nxt <= until:
            found.append(nxt)
            after = nxt
        return found
    if discovered is None:
        return []
    at = discovered
    if at <= now:
        at += DAY * ((now - at) // DAY + 1)
    while at <= until:
        found.append(at.astimezone(UTC))
        at += DAY
    return found


@dataclass(frozen=True)
class Outlook:
    """The server's volumes at risk, soonest window first, and the volumes the forecaster
    would not forecast (too little history, or too erratic): about those it says nothing."""

    risks: tuple[AtRisk, ...]
    undecided: frozenset[str]


def at_risk(
    volumes: Iterable[VolumeSeries],
    windows: Sequence[datetime],
    now: datetime,
    horizon: timedelta,
    lead: timedelta,
    policy: Policy = DEFAULT_POLICY,
) -> Outlook:
    """The volumes whose first at-risk window lies within the horizon and beyond the next
    lead-time check (a window whose check is due within `lead` is that check's to alert on)."""
    found = []
    undecided = set()
    for volume in volumes:
        forecast = forecast_volume(
            volume.history, windows, now, horizon, volume.minimum_bytes, policy
        )
        if forecast.state is not ForecastState.FORECAST:
            undecided.add(volume.volume_id)
            continue
        window = forecast.first_at_risk
        if window is not None and window.at - lead > now:
            found.append(AtRisk(volume, forecast, window))
    risks = sorted(found, key=lambda r: (r.window.at, r.volume.name))
    return Outlook(tuple(risks), frozenset(undecided))


def target_window(risks: Sequence[AtRisk]) -> datetime | None:
    """The window the server's forecast alert is for: the first any of its volumes puts at risk."""
    return min((r.window.at for r in risks), default=None)


def forecast_report(
    server: str,
    now: datetime,
    volumes: Sequence[VolumeSeries],
    risks: Sequence[AtRisk],
    horizon: timedelta,
    t: Catalog,
    zone: tzinfo | None,
) -> Report:
    """What the forecast alert shows: each volume as last seen, and one finding per volume at
    risk, naming its own first window (none: the forecast is clear). Times in `zone` (UTC
    without one); the report's next backup is the soonest of those windows, the alert's."""
    flagged = {r.volume.volume_id: r for r in risks}
    shown = []
    for volume in volumes:
        if not volume.history:
            continue
        last = volume.history[-1]
        shown.append(
            VolumeReport(
                id=volume.volume_id,
                name=volume.name,
                letter=_letter(volume.name),
                label=None,
                roles=[],
                status=Status.WARNING if volume.volume_id in flagged else Status.OK,
                capacity_bytes=last.capacity_bytes,
                free_bytes=last.free_bytes,
                required_free_bytes=volume.minimum_bytes,
                recommended_free_bytes=None,
                shortfall_bytes=flagged[volume.volume_id].bytes_to_free
                if volume.volume_id in flagged
                else None,
                tips=[],
            )
        )
    findings = [_finding(r, now, horizon, t, zone or UTC) for r in risks]
    window = min((r.window.at for r in risks), default=None)
    return Report(
        host=server,
        status=Status.WARNING if findings else Status.OK,
        checked_at=now,
        next_backup_at=window.astimezone(zone or UTC) if window else None,
        volumes=shown,
        findings=findings,
    )


def forecast_only(alert: Alert) -> bool:
    """Whether an alert holds forecasts only: no lead-time check of its window has found it yet."""
    return bool(alert.fingerprint) and all(
        code == FORECAST_CODE for code, _, _ in alert.fingerprint
    )


def on_forecast(
    stored: Alert | None,
    report: Report,
    window_at: datetime,
    now: datetime,
    silenced: bool = False,
    undecided: frozenset[str] = frozenset(),
) -> Transition:
    """The morning forecast for this window: a report with findings puts it at risk, one
    without says the forecast cleared. Once a lead-time check has the alert, it is left alone;
    so is an alert about a volume that could not be forecast this morning (`undecided`)."""
    if stored is not None and not forecast_only(stored):
        return Transition(stored)
    if not report.findings:
        if stored is None or stored.resolved_at is not None:
            return Transition(stored)
        if any(volume in undecided for _, volume, _ in stored.fingerprint):
            return Transition(stored)
        return Transition(
            replace(stored, resolved_at=now), (Effect.UPDATE_ALERT, Effect.REPLY_RESOLVED)
        )
    found = fingerprint(report)
    if stored is None:
        if silenced:
            return Transition(None)
        opened = Alert(report.host, window_at, Status.WARNING, found, now)
        return Transition(opened, (Effect.POST_ALERT,))
    if stored.resolved_at is not None:
        reopened = replace(stored, resolved_at=None, fingerprint=found)
        return Transition(reopened, (Effect.UPDATE_ALERT, Effect.REPLY_REOPENED))
    # Each morning's figures replace yesterday's in place: no new message, no new ping.
    return Transition(replace(stored, fingerprint=found), (Effect.UPDATE_ALERT,))


def windows_to_decide(open_windows: Iterable[datetime], target: datetime | None) -> list[datetime]:
    """The windows whose forecast alert this morning decides: the one at risk now, and those
    of the server's open forecast alerts (which clear when the risk moved or went away)."""
    return sorted(set(open_windows) | ({target} if target is not None else set()))


def _finding(risk: AtRisk, now: datetime, horizon: timedelta, t: Catalog, zone: tzinfo) -> Finding:
    trend = risk.forecast.trend
    loss = max(0, round(-trend.free_bytes_per_day)) if trend is not None else 0
    message = t.text(
        "forecast_alert.problem",
        volume=_letter(risk.volume.name) or risk.volume.name,
        rate=t.size(loss),
        minimum=t.size(risk.volume.minimum_bytes),
        before=_before(risk.window.at, now, t, zone),
        to_free=t.size(risk.bytes_to_free, round_up=True),
        days=horizon // DAY,
    )
    last = risk.volume.history[-1]
    return Finding(
        severity=Status.WARNING,
        code=FORECAST_CODE,
        volume_id=risk.volume.volume_id,
        message=message,
        required_bytes=risk.volume.minimum_bytes,
        free_bytes=last.free_bytes,
        shortfall_bytes=risk.bytes_to_free,
    )


def _before(window: datetime, now: datetime, t: Catalog, zone: tzinfo) -> str:
    """ "before Thursday's 21:00 JST backup", or with its date when it is a week or more away."""
    local = window.astimezone(zone)
    if window - now >= WEEKDAY_NAMES_UNTIL:
        return t.text("forecast_alert.before_date", when=t.datetime(local))
    day = t.text(f"forecast_alert.{WEEKDAY_KEYS[local.weekday()]}")
    return t.text(
        "forecast_alert.before_day", day=day, time=local.strftime("%H:%M"), zone=zone_label(local)
    )


def _letter(name: str) -> str | None:
    """D: for a drive's root (D:\\), as people name it; None for a mount point or a GUID path."""
    return name[:2] if re.fullmatch(r"[A-Za-z]:\\?", name) else None
