"""Scheduled checks and people's actions on alerts: the shell around the alert state machine.

Each method reads what it needs, applies a pure transition from alert_lifecycle, and hands the
result to the stores, which commit it together with the Slack messages it causes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.forecast_notice import forecast_only
from bot.alerts.history import History
from bot.alerts.lifecycle import (
    VERDICT_ESCALATES_FOR,
    Alert,
    AlertPolicy,
    Transition,
    acknowledge,
    auto_escalate,
    escalate,
    on_check,
    silence,
    unacknowledge,
    unsilence,
)
from bot.alerts.schedule.store import ScheduleStore
from bot.alerts.silences import SilenceStore
from bot.alerts.store import AlertStore, Decide, StoredAlert
from bot.alerts.volume_trends import TREND_HORIZON, TREND_POLICY, report_trends
from checks.fleet import Collect, check_fleet
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.report import Report

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Action(StrEnum):
    """What a person can do to an alert."""

    ACKNOWLEDGE = "acknowledge"
    UNACKNOWLEDGE = "unacknowledge"
    ESCALATE = "escalate"
    SILENCE = "silence"
    UNSILENCE = "unsilence"


@dataclass(frozen=True)
class Outcome:
    """What an action did: changed the alert, changed nothing, or found no such alert."""

    changed: bool
    found: bool = True


class AlertService:
    """Runs checks for windows and applies people's actions, one transition at a time."""

    def __init__(
        self,
        inventory: Inventory,
        collect: Collect,
        alerts: AlertStore,
        schedule: ScheduleStore,
        silences: SilenceStore,
        history: History,
        policy: AlertPolicy,
        catalog: Catalog,
        clock: Clock,
        trend_horizon: timedelta = TREND_HORIZON,
    ) -> None:
        self.inventory = inventory
        self._collect = collect
        self.alerts = alerts
        self.schedule = schedule
        self.silences = silences
        self.history = history
        self._policy = policy
        self._t = catalog
        self._clock = clock
        self._trend_horizon = trend_horizon

    def check(
        self,
        server: Server,
        window_at: datetime | None,
        actor: str | None = None,
        check_id: str | None = None,
    ) -> Report:
        """Check a server now; with a window, open, update or resolve that window's alert."""
        report = self.inspect(server, check_id)
        self.settle(server, window_at, report, actor, check_id)
        return report

    def inspect(self, server: Server, check_id: str | None = None) -> Report:
        """Check a server now and log the result, recording nothing (the slow part: it waits
        for the server, up to its deadline)."""
        (report,) = check_fleet([server], self._collect, self._t, workers=1, clock=self._clock)
        # One line per check; an unknown one says why, since nothing else in the log will.
        failed = [f.message for f in report.findings if f.code == "CHECK_FAILED"]
        logger.info(
            "%s: %s%s",
            server.name,
            report.status.value,
            f" ({failed[0]})" if failed else "",
            extra={"host": server.name, "check_id": check_id},
        )
        return report

    def settle(
        self,
        server: Server,
        window_at: datetime | None,
        report: Report,
        actor: str | None = None,
        check_id: str | None = None,
    ) -> None:
        """Record what a check found; with a window, open, update or resolve its alert."""
        now = self._clock()
        context = {"host": server.name, "check_id": check_id}
        self.history.record(report)
        # A host that could not be read keeps the schedule it last told us about.
        self.schedule.remember(server.name, report.next_backup_at, now, keep=not report.volumes)
        if window_at is None:
            return
        silenced = self.silences.of(server.name, now) is not None
        report = self.with_trends(report)

        def decide(stored: StoredAlert | None) -> tuple[Transition, Report] | None:
            if stored is None and silenced:
                logger.info(
                    "%s is silenced: its %s result posts no alert",
                    server.name,
                    report.status.value,
                    extra=context,
                )
                return None
            alert = stored.alert if stored else None
            return on_check(alert, report, window_at, now, self._policy), report

        effects: list[str] = []
        alert_id = self.alerts.apply(
            server.name,
            window_at,
            _noting(decide, effects),
            self._t,
            "checked",
            actor,
            now,
            self.configured_zone(server.name),
        )
        if effects:
            logger.info(
                "alert %s: %s",
                alert_id,
                ", ".join(effects),
                extra={**context, "alert_id": alert_id},
            )

    def with_trends(self, report: Report) -> Report:
        """The report with each volume's trend from the stored history, as the forecast alerts
        read it; unchanged when there is none, or when the history cannot be read (one line)."""
        if not report.volumes:
            return report
        since = report.checked_at - TREND_POLICY.lookback
        try:
            readings = self.history.series(report.host, since)
        except SQLAlchemyError as error:
            logger.warning(
                "%s: no trend: the history could not be read (%s)",
                report.host,
                type(error).__name__,
                extra={"host": report.host},
            )
            return report
        return report_trends(report, readings, self._trend_horizon, TREND_POLICY)

    def act(self, server: str, window_at: datetime, action: Action, user: str) -> Outcome:
        """Acknowledge, unacknowledge, escalate or lift the silence of one alert."""
        now = self._clock()
        moves: dict[Action, Callable[[Alert], Transition]] = {
            Action.ACKNOWLEDGE: lambda alert: acknowledge(alert, user, now),
            Action.UNACKNOWLEDGE: lambda alert: unacknowledge(alert, user, now),
            Action.ESCALATE: lambda alert: escalate(alert, user, now),
            Action.UNSILENCE: lambda alert: unsilence(alert, user, now),
        }
        if action is Action.UNSILENCE:
            self.silences.lift(server, user, now)
        return self._apply(server, window_at, moves[action], action.value, user, now)

    def silence(
        self, server: str, until: datetime, user: str, window_at: datetime | None = None
    ) -> Outcome:
        """Silence a server until `until`; its open alerts (or the one for `window_at`) say so.
        A silence that would end sooner than the one in force changes nothing."""
        now = self._clock()
        if until <= now or not self.silences.add(server, until, user, now):
            return Outcome(changed=False)
        for stored in self._open_alerts_of(server, window_at, now):
            move = lambda alert: silence(alert, user, until, now)  # noqa: E731
            self._apply(server, stored.alert.window_at, move, "silence", user, now)
        return Outcome(changed=True)

    def unsilence_server(self, server: str, user: str) -> bool:
        """End a server's silence, and say so on its open alerts; False when it was not silenced."""
        now = self._clock()
        lifted = self.silences.lift(server, user, now)
        for stored in self._open_alerts_of(server, None, now):
            move = lambda alert: unsilence(alert, user, now)  # noqa: E731
            self._apply(server, stored.alert.window_at, move, "unsilence", user, now)
        return lifted

    def escalate_due(self) -> int:
        """Escalate every alert that nobody acknowledged in time; returns how many."""
        now = self._clock()
        silenced = self.silences.active(now)
        escalated = 0
        for stored in self.alerts.unresolved(after=now - VERDICT_ESCALATES_FOR):
            if stored.alert.server in silenced:  # a server-wide silence covers reopened alerts too
                continue
            if forecast_only(stored.alert):  # days ahead: people take it in working hours
                continue
            if auto_escalate(stored.alert, now, self._policy).effects:
                move = lambda alert: auto_escalate(alert, now, self._policy)  # noqa: E731
                outcome = self._apply(
                    stored.alert.server, stored.alert.window_at, move, "escalate", "auto", now
                )
                escalated += outcome.changed
        return escalated

    def prune(self, keep: timedelta) -> int:
        """Forget check results, old alerts and delivered messages older than `keep`."""
        before = self._clock() - keep
        return self.history.prune(before) + self.schedule.prune(before)

    def _open_alerts_of(
        self, server: str, window_at: datetime | None, now: datetime
    ) -> list[StoredAlert]:
        # Alerts of windows that have passed are history: a silence no longer edits them.
        return [
            s
            for s in self.alerts.unresolved(after=now)
            if s.alert.server == server and (window_at is None or s.alert.window_at == window_at)
        ]

    def _apply(
        self,
        server: str,
        window_at: datetime,
        move: Callable[[Alert], Transition],
        kind: str,
        user: str,
        now: datetime,
    ) -> Outcome:
        """Apply a person's (or the escalation job's) move to the alert as stored right now."""
        found = False
        changed = False

        def decide(stored: StoredAlert | None) -> tuple[Transition, Report] | None:
            nonlocal found, changed
            if stored is None or stored.report is None:
                return None
            found = True
            transition = move(stored.alert)
            if not transition.effects:  # a double click, or someone was quicker
                return None
            changed = True
            return transition, stored.report

        zone = self.configured_zone(server)
        self.alerts.apply(server, window_at, decide, self._t, kind, user, now, zone)
        return Outcome(changed=changed, found=found)

    def zone(self, server: str) -> tzinfo:
        """The server's time zone, in which people read its times (UTC when not configured)."""
        return self.configured_zone(server) or UTC

    def configured_zone(self, server: str) -> tzinfo | None:
        """The server's configured time zone; None lets its alert use the offset it reported."""
        found = self.inventory.find(server)
        return ZoneInfo(found.timezone) if found and found.timezone else None


def _noting(decide: Decide, effects: list[str]) -> Decide:
    """decide, recording the effects of the transition it chose (for the log line)."""

    def noted(stored: StoredAlert | None) -> tuple[Transition, Report] | None:
        decided = decide(stored)
        if decided is not None:
            effects.extend(e.value for e in decided[0].effects)
        return decided

    return noted
