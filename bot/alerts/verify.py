"""Reads a server after its backup window and posts the verdict: the shell around
verify_plan.py. The Driver claims each reading once across replicas (a `verify` job)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.lifecycle import Transition
from bot.alerts.service import AlertService
from bot.alerts.store import StoredAlert
from bot.alerts.verdict import WindowVerdict
from bot.alerts.verify_plan import Again, Done, VerifyPolicy, next_step, on_verdict
from bot.alerts.verify_store import OutcomeStore
from checks.fleet import Collect, check_fleet
from checks.i18n import Catalog
from checks.inventory import Server
from checks.outcome import Outcome, window_outcome
from checks.report import Report, Status
from checks.rules import Code
from checks.snapshot import Snapshot
from checks.windows import configured_window

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Reading:
    """One reading of a server after its window: what to do next, and the report of it."""

    step: Again | Done
    report: Report


class Verifier:
    """Reads servers with the same probe and deadline as a check, and posts verdicts."""

    def __init__(
        self,
        service: AlertService,
        collect: Collect,
        outcomes: OutcomeStore,
        policy: VerifyPolicy,
        catalog: Catalog,
        clock: Clock,
    ) -> None:
        self._service = service
        self._collect = collect
        self.outcomes = outcomes
        self.policy = policy
        self._t = catalog
        self._clock = clock

    def read(self, server: Server, window_at: datetime, check_id: str | None = None) -> Reading:
        """Read the server once (the slow part, up to its deadline), recording nothing."""
        snapshot, report = self._probe(server)
        now = self._clock()
        outcome = None
        if snapshot is not None:
            window_end = configured_window(server, window_at)
            outcome = window_outcome(snapshot.last_backup, window_at, now, window_end=window_end)
        step = next_step(outcome, window_at, now, self.policy)
        logger.info(
            "%s, %s window: %s",
            server.name,
            window_at.isoformat(),
            _said(step, outcome),
            extra={"host": server.name, "check_id": check_id},
        )
        return Reading(step, report)

    def conclude(
        self, server: Server, window_at: datetime, verdict: WindowVerdict, report: Report
    ) -> int | None:
        """Post the verdict where people look (the window's alert, or a new one) and store it;
        returns the alert's id, None when nothing was posted."""
        now = self._clock()
        silenced = self._service.silences.of(server.name, now) is not None

        def decide(stored: StoredAlert | None) -> tuple[Transition, Report] | None:
            alert = stored.alert if stored is not None else None
            transition = on_verdict(
                alert, verdict, server.name, window_at, now, self.policy, silenced
            )
            if transition.alert is None or not transition.effects:
                return None
            # An alert keeps the report of the check before the window: its tips still apply.
            shown = stored.report if stored is not None and stored.report else report
            return transition, shown

        alerts = self._service.alerts
        zone = self._service.configured_zone(server.name)
        alert_id = alerts.apply(
            server.name, window_at, decide, self._t, "verified", None, now, zone
        )
        if alert_id is None:
            found = alerts.find(server.name, window_at)
            alert_id = found.id if found is not None else None
        self.outcomes.record(server.name, window_at, verdict, alert_id, now)
        return alert_id

    def _probe(self, server: Server) -> tuple[Snapshot | None, Report]:
        """The snapshot and its report; no snapshot when the server could not be read in time."""
        seen: list[Snapshot] = []
        lock = threading.Lock()

        def collect(target: Server) -> Snapshot:
            snapshot = self._collect(target)
            with lock:
                seen.append(snapshot)
            return snapshot

        (report,) = check_fleet([server], collect, self._t, workers=1, clock=self._clock)
        failed = report.status is Status.UNKNOWN and any(
            f.code == Code.CHECK_FAILED.value for f in report.findings
        )
        with lock:
            return (None if failed or not seen else seen[0]), report


def _said(step: Again | Done, outcome: Outcome | None) -> str:
    """The log's word for a reading: the verdict, or what the server said meanwhile."""
    if isinstance(step, Done):
        return step.verdict.kind.value
    return "unreadable" if outcome is None else type(outcome).__name__.lower()
