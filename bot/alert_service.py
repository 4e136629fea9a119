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

from bot.alert_lifecycle import (
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
from bot.alert_store import AlertStore, StoredAlert
from bot.history import History
from bot.schedule_store import ScheduleStore
from bot.silences import SilenceStore
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

    def check(
        self,
        server: Server,
        window_at: datetime | None,
        actor: str | None = None,
        check_id: str | None = None,
    ) -> Report:
        """Check a server now; with a window, open, update or resolve that window's alert."""
        (report,) = check_fleet([server], self._collect, self._t, workers=1, clock=self._clock)
        now = self._clock()
        context = {"host": server.name, "check_id": check_id}
        logger.info("%s: %s", server.name, report.status.value, extra=context)
        self.history.record(report)
        # A host that could not be read keeps the schedule it last told us about.
        self.schedule.remember(server.name, report.next_backup_at, now, keep=not report.volumes)
        if window_at is None:
            return report
        stored = self.alerts.find(server.name, window_at)
        if stored is None and self.silences.of(server.name, now) is not None:
            logger.info(
                "%s is silenced: its %s result posts no alert",
                server.name,
                report.status.value,
                extra=context,
            )
            return report
        transition = on_check(
            stored.alert if stored else None, report, window_at, now, self._policy
        )
        alert_id = self.alerts.record(
            transition, report, self._t, "checked", actor, now, self.zone(server.name)
        )
        if transition.effects:
            effects = ", ".join(e.value for e in transition.effects)
            logger.info("alert %s: %s", alert_id, effects, extra={**context, "alert_id": alert_id})
        return report

    def act(self, server: str, window_at: datetime, action: Action, user: str) -> Outcome:
        """Acknowledge, unacknowledge, escalate or lift the silence of one alert."""
        stored = self.alerts.find(server, window_at)
        if stored is None or stored.report is None:
            return Outcome(changed=False, found=False)
        now = self._clock()
        alert = stored.alert
        transitions: dict[Action, Callable[[], Transition]] = {
            Action.ACKNOWLEDGE: lambda: acknowledge(alert, user, now),
            Action.UNACKNOWLEDGE: lambda: unacknowledge(alert, user, now),
            Action.ESCALATE: lambda: escalate(alert, user, now),
            Action.UNSILENCE: lambda: unsilence(alert, user, now),
        }
        if action is Action.UNSILENCE:
            self.silences.lift(server, user, now)
        return self._apply(stored, transitions[action](), action.value, user, now)

    def silence(
        self, server: str, until: datetime, user: str, window_at: datetime | None = None
    ) -> Outcome:
        """Silence a server until `until`; its alert for `window_at` (if any) says so."""
        now = self._clock()
        self.silences.add(server, until, user, now)
        for stored in self._open_alerts_of(server, window_at):
            self._apply(stored, silence(stored.alert, user, until, now), "silence", user, now)
        return Outcome(changed=True)

    def unsilence_server(self, server: str, user: str) -> bool:
        """End a server's silence, and say so on its open alerts; False when it was not silenced."""
        now = self._clock()
        lifted = self.silences.lift(server, user, now)
        for stored in self._open_alerts_of(server, None):
            self._apply(stored, unsilence(stored.alert, user, now), "unsilence", user, now)
        return lifted

    def escalate_due(self) -> int:
        """Escalate every alert that nobody acknowledged in time; returns how many."""
        now = self._clock()
        escalated = 0
        for stored in self.alerts.unresolved():
            transition = auto_escalate(stored.alert, now, self._policy)
            if transition.effects and stored.report is not None:
                zone = self.zone(stored.alert.server)
                self.alerts.record(
                    transition, stored.report, self._t, "escalate", "auto", now, zone
                )
                escalated += 1
        return escalated

    def prune(self, keep: timedelta) -> int:
        """Forget check results, old alerts and delivered messages older than `keep`."""
        before = self._clock() - keep
        return self.history.prune(before) + self.schedule.prune(before)

    def _open_alerts_of(self, server: str, window_at: datetime | None) -> list[StoredAlert]:
        return [
            s
            for s in self.alerts.unresolved()
            if s.alert.server == server and (window_at is None or s.alert.window_at == window_at)
        ]

    def _apply(
        self, stored: StoredAlert, transition: Transition, kind: str, user: str, now: datetime
    ) -> Outcome:
        if not transition.effects or stored.report is None:
            return Outcome(changed=False)
        zone = self.zone(stored.alert.server)
        self.alerts.record(transition, stored.report, self._t, kind, user, now, zone)
        return Outcome(changed=True)

    def zone(self, server: str) -> tzinfo:
        """The server's time zone, in which people read its alert's times."""
        found = self.inventory.find(server)
        return ZoneInfo(found.timezone) if found and found.timezone else UTC
