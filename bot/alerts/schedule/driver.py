"""The Driver decides and runs each scheduled job once across replicas: it plans, claims, checks
and records. It takes `now` from a clock, so tests walk through an evening without waiting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.alerts.schedule.leases import Decision, Key, Verdict, key_of, period_key
from bot.alerts.schedule.plan import Job, Plan, SchedulePolicy, plan
from bot.alerts.service import AlertService
from bot.alerts.verify import Verifier
from bot.alerts.verify_plan import VERIFY, Again, Done, verify_jobs
from checks.inventory import Server
from checks.report import Report

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Decides a server's forecast alert from its stored history (bot.alerts.forecast_alerts).
Forecaster = Callable[[Server], None]
LEFT = Decision(Verdict.LEAVE)  # nothing to run, nothing to look at again
RETENTION = "retention"  # the kind of the retention job's claims


class Driver:
    """Plans jobs from windows, runs each due job once (on whichever replica claims it), and
    gives up on long-missed ones."""

    def __init__(
        self,
        service: AlertService,
        policy: SchedulePolicy,
        clock: Clock,
        replica: str,
        lease: timedelta,
        verifier: Verifier | None = None,
        forecaster: Forecaster | None = None,
    ) -> None:
        self._service = service
        self.verifier = verifier
        self.forecaster = forecaster
        self._policy = policy
        self._clock = clock
        self.replica = replica
        self.lease = lease
        # Claims and results are written only while not abandoned; `_writing` counts the
        # writes under way, so that abandoning waits for them (they are short) and none follows.
        self._writes = threading.Condition()
        self._writing = 0
        self._abandoned = False

    def plan(self, give_up: bool = True) -> Plan:
        """The jobs at this moment; missed ones are recorded as given up and logged."""
        now = self._clock()
        store = self._service.schedule
        servers = self._service.inventory.resolved()
        runs = store.runs(now - timedelta(days=8))
        result = plan(
            servers,
            store.discovered(),
            runs,
            self._service.alerts.open_windows(after=now),
            now,
            self._policy,
        )
        if self.verifier is not None:  # after each window, how its backup went
            verifications = verify_jobs(servers, runs, now, self.verifier.policy)
            result.due.extend(verifications.due)
            result.later.extend(verifications.later)
            result.held.update(verifications.held)
        for job in result.missed if give_up else []:
            if not store.give_up(job, now):
                continue  # another replica gave it up first
            logger.warning(
                "skipped the %s of %s for the %s window: it was due at %s, more than %s ago",
                job.kind,
                job.server,
                job.window_at.isoformat(),
                job.run_at.isoformat(),
                self._policy.grace,
            )
        return result

    def run(self, job: Job) -> Decision:
        """Run one job if this replica claims it; a check that finds an open alert plans a
        re-check. Returns the claim's decision: LEAVE with a time says when to look again."""
        server = self._service.inventory.find(job.server)
        if server is None:  # removed from the inventory since the plan was made
            return LEFT
        context = {"host": job.server, "check_id": job.id}
        decision = self._claim(key_of(job))
        if decision.verdict is Verdict.GIVE_UP:
            # Queued behind slow hosts (or held by a replica that died) until the backup
            # started: too late to warn anyone.
            logger.warning(
                "skipped the %s of %s: its backup window started before a worker was free",
                job.kind,
                job.server,
                extra=context,
            )
            return decision
        if not decision.runs:
            return decision
        if job.kind == VERIFY and self.verifier is not None:
            # Its time is the parked claim's end: the next reading (None: it has its verdict).
            return Decision(decision.verdict, self._verify(job, server))
        if decision.verdict is Verdict.TAKE_OVER:
            logger.info(
                "took over the %s of %s: the replica that claimed it handed it back or stopped "
                "renewing its lease",
                job.kind,
                job.server,
                extra=context,
            )
        report = None
        try:
            report = self._service.inspect(server, job.id)
        finally:
            self._record(job, server, report)
        return decision

    def _verify(self, job: Job, server: Server) -> datetime | None:
        """One reading after the window: post the verdict and finish, or park the claim
        until the next reading (any replica takes it then), and return that reading's time."""
        verifier = self.verifier
        if verifier is None:
            return None
        reading = None
        at = None
        try:
            reading = verifier.read(server, job.window_at, job.id)
        finally:
            if self._begin():
                try:
                    step = reading.step if reading is not None else None
                    if isinstance(step, Done) and reading is not None:
                        verifier.conclude(server, job.window_at, step.verdict, reading.report)
                        self._finish(key_of(job), done=True)
                    else:
                        # A reading that raised is tried again when the next would have been.
                        at = self._clock() + verifier.policy.every
                        if isinstance(step, Again):
                            at = step.at
                        self._service.schedule.park(key_of(job), self.replica, at)
                finally:
                    self._end()
        return at

    def run_due(self) -> list[Job]:
        """Run every job due now, one after another (tests and start-up catch-up use this)."""
        ran = []
        for job in self.plan().due:
            self.run(job)
            ran.append(job)
        return ran

    def prune(self, keep: timedelta, every: timedelta) -> int | None:
        """Forget what is older than `keep`, once per period of `every` across replicas;
        returns how many rows went, None when another replica prunes this period."""
        key = period_key(RETENTION, self._clock(), every)
        if not self._claim(key).runs:
            return None
        removed = None
        try:
            removed = self._service.prune(keep)
            if self.verifier is not None:
                removed += self.verifier.outcomes.prune(self._clock() - keep)
        finally:
            if self._begin():
                try:
                    self._finish(key, done=removed is not None)
                finally:
                    self._end()
        return removed

    def abandon(self, timeout: float) -> None:
        """From now on, claim nothing and record nothing: a check still running when this
        replica shuts down leaves its result to the replica that takes its lease over. Waits
        (up to `timeout` seconds) for the writes under way."""
        with self._writes:
            self._abandoned = True
            self._writes.wait_for(lambda: self._writing == 0, timeout)

    def _claim(self, key: Key) -> Decision:
        if not self._begin():
            return LEFT
        try:
            return self._service.schedule.claim(key, self._clock(), self.replica, self.lease)
        finally:
            self._end()

    def _record(self, job: Job, server: Server, report: Report | None) -> None:
        """Record a claimed job's result and its end; nothing once abandoned."""
        if not self._begin():
            logger.info(
                "left the %s of %s to the other replicas: still running at shutdown",
                job.kind,
                job.server,
                extra={"host": job.server, "check_id": job.id},
            )
            return
        try:
            if report is not None:
                # Only lead-time checks alert; the others record history (and the schedule).
                window = job.window_at if job.kind in ("check", "recheck") else None
                self._service.settle(server, window, report, check_id=job.id)
            if job.kind == "forecast" and self.forecaster is not None:
                # From the history, even when the server could not be read this morning.
                self.forecaster(server)
        finally:
            try:
                # A check that raised is not run again (it would fail the same way until its
                # window passed); a discovery is claimed afresh at the next round.
                self._finish(key_of(job), done=report is not None or job.kind != "discover")
            finally:
                self._end()

    def _finish(self, key: Key, done: bool) -> None:
        store = self._service.schedule
        if done:
            store.finish(key, self._clock())
        else:
            store.withdraw(key, self.replica)

    def _begin(self) -> bool:
        with self._writes:
            if self._abandoned:
                return False
            self._writing += 1
            return True

    def _end(self) -> None:
        with self._writes:
            self._writing -= 1
            self._writes.notify_all()
