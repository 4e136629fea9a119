"""The scheduled checks: APScheduler fires each job at its time; the Driver decides and runs.

The Driver holds the logic and takes `now` from a clock, so tests walk through an evening
without waiting. APScheduler only provides the timing in the running bot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.liveness import Liveness
from bot.alerts.outbox import Outbox
from bot.alerts.schedule.leases import Decision, Verdict
from bot.alerts.schedule.plan import Job, Plan, SchedulePolicy, plan
from bot.alerts.service import AlertService

logger = logging.getLogger(__name__)
JOB_PREFIXES = ("check:", "recheck:", "discover:")
Clock = Callable[[], datetime]
LEFT = Decision(Verdict.LEAVE)  # nothing to run, nothing to look at again


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
    ) -> None:
        self._service = service
        self._policy = policy
        self._clock = clock
        self.replica = replica
        self.lease = lease
        self._discovering: set[str] = set()
        self._lock = threading.Lock()

    def plan(self, give_up: bool = True) -> Plan:
        """The jobs at this moment; missed ones are recorded as given up and logged."""
        now = self._clock()
        store = self._service.schedule
        result = plan(
            self._service.inventory.resolved(),
            store.discovered(),
            store.runs(now - timedelta(days=8)),
            self._service.alerts.open_windows(after=now),
            now,
            self._policy,
        )
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
        if job.kind == "discover":
            # Not claimed: a discovery only reads the server's schedule, so two replicas
            # asking at once cost a WinRM session, never an alert.
            with self._lock:
                if job.server in self._discovering:
                    return LEFT
                self._discovering.add(job.server)
            try:
                self._service.check(server, None, check_id=job.id)
            finally:
                with self._lock:
                    self._discovering.discard(job.server)
            return Decision(Verdict.CLAIM)
        store = self._service.schedule
        context = {"host": job.server, "check_id": job.id}
        decision = store.claim(job, self._clock(), self.replica, self.lease)
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
        if decision.verdict is Verdict.TAKE_OVER:
            logger.info(
                "took over the %s of %s: the replica that claimed it stopped renewing its lease",
                job.kind,
                job.server,
                extra=context,
            )
        try:
            self._service.check(server, job.window_at, check_id=job.id)
        finally:
            store.finish(job, self._clock())
        return decision

    def run_due(self) -> list[Job]:
        """Run every job due now, one after another (tests and start-up catch-up use this)."""
        ran = []
        for job in self.plan().due:
            self.run(job)
            ran.append(job)
        return ran


class Scheduler:
    """APScheduler in the bot's process: check jobs, the outbox, escalations and housekeeping."""

    def __init__(
        self,
        driver: Driver,
        service: AlertService,
        outbox: Outbox,
        policy: SchedulePolicy,
        retention: timedelta,
        workers: int,
        clock: Clock = lambda: datetime.now(UTC),
        liveness: Liveness | None = None,
    ) -> None:
        self._driver = driver
        self.liveness = liveness
        self._service = service
        self._outbox = outbox
        self._policy = policy
        self._retention = retention
        self._clock = clock
        self._in_flight: set[str] = set()  # check jobs handed to a worker and not done yet
        self._lock = threading.Lock()
        # Held to touch APScheduler's jobs from a check thread: shutdown(wait=True) holds
        # APScheduler's job-store lock while it waits for those threads, so once stopping has
        # begun no thread may ask for it (get_jobs, add_job), or both wait for ever.
        self._jobs_gate = threading.Lock()
        self._stopping = threading.Event()  # no new claims
        self._stopped = threading.Event()  # no check runs: no more renewals
        self._renewer: threading.Thread | None = None
        self.apscheduler = BackgroundScheduler(
            timezone=UTC,
            executors={
                # Checks wait on slow hosts; the outbox and escalations must never wait on them.
                "checks": ThreadPoolExecutor(workers),
                "default": ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    @property
    def running(self) -> bool:
        """Whether the scheduler is up (for the health check)."""
        return bool(self.apscheduler.running)

    def start(self, paused: bool = False) -> None:
        """Plan and start; interval jobs keep the plan, the outbox and escalations moving."""
        recovered = self._service.schedule.recover()
        if recovered:
            logger.info(
                "%d checks were cut short by a restart; they run again if still due", recovered
            )
        if self.liveness is not None:
            self.liveness.start()
        self.round(give_up=True)
        add = self.apscheduler.add_job
        add(self.round, IntervalTrigger(minutes=5), id="plan", replace_existing=True)
        add(self._deliver, IntervalTrigger(seconds=2), id="outbox", replace_existing=True)
        add(self._escalate, IntervalTrigger(seconds=30), id="escalate", replace_existing=True)
        # Soon after start too: a bot restarted daily would otherwise never prune.
        first_prune = self._clock() + timedelta(minutes=10)
        add(
            self._prune,
            IntervalTrigger(hours=24),
            id="retention",
            replace_existing=True,
            next_run_time=first_prune,
            misfire_grace_time=3600,
        )
        self.apscheduler.start(paused=paused)
        # A thread of its own, not a job: renewals must go on while shutdown waits for checks.
        self._renewer = threading.Thread(target=self._keep_leases, name="leases", daemon=True)
        self._renewer.start()

    def stop(self, wait: bool = True) -> None:
        """Stop claiming: queued checks return unclaimed, free for the other replicas at once.
        With wait, running checks finish first and anything still held is handed back."""
        with self._jobs_gate:
            self._stopping.set()
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=wait)
        self._stopped.set()
        if self._renewer is not None:
            self._renewer.join()
        if wait:  # nothing runs now: a lease still held is a check cut short
            released = self._service.schedule.release(self._driver.replica, self._clock())
            if released:
                logger.info("handed back %d unfinished checks to the other replicas", released)
        if self.liveness is not None:
            self.liveness.stop()

    def renew_leases(self) -> int:
        """Extend the leases of the checks this replica is running; returns how many."""
        with self._lock:
            if not self._in_flight:
                return 0
        lease = self._driver.lease
        return self._service.schedule.renew(self._driver.replica, self._clock(), lease)

    def _keep_leases(self) -> None:
        # A third of the lease: two renewals may fail (a slow database) before it runs out.
        every = self._driver.lease.total_seconds() / 3
        while not self._stopped.wait(every):
            try:
                self.renew_leases()
            except SQLAlchemyError:  # the next round tries again; the lease covers the gap
                logger.warning("could not renew the leases of running checks", exc_info=True)

    def sync(self, give_up: bool = False) -> Plan:
        """Add (or replace) a timed job for everything planned, due ones at once, and drop the
        jobs the plan no longer has (a server's own schedule moved). Only start-up gives up on
        missed checks: a check queued behind slow hosts is late, not missed."""
        current = self._driver.plan(give_up=give_up)
        now = self._clock()
        planned = {job.id for job in current.due + current.later}
        with self._jobs_gate:
            if self._stopping.is_set():
                return current
            for stale in self.apscheduler.get_jobs():
                if stale.id.startswith(JOB_PREFIXES) and stale.id not in planned:
                    stale.remove()
            for job in current.due + current.later:
                with self._lock:
                    if job.id in self._in_flight:
                        continue
                # A check another replica holds is looked at again when its lease ends.
                self._schedule(job, max(job.run_at, now, current.held.get(job.id, now)))
        return current

    def round(self, give_up: bool = False) -> None:
        """A scheduling round: sync, then tell liveness (a round that raised tells nobody)."""
        self.sync(give_up=give_up)
        if self.liveness is not None:
            self.liveness.after_round()

    def _schedule(self, job: Job, at: datetime) -> None:
        self.apscheduler.add_job(
            self._run,
            DateTrigger(run_date=at),
            args=[job],
            id=job.id,
            name=f"{job.kind} {job.server}",
            executor="checks",
            misfire_grace_time=int(self._policy.grace.total_seconds()) or 1,
            replace_existing=True,
        )

    def _run(self, job: Job) -> None:
        if self._stopping.is_set():  # shutting down: leave it to the other replicas
            return
        with self._lock:
            self._in_flight.add(job.id)
        try:
            decision = self._driver.run(job)
        finally:
            with self._lock:
                self._in_flight.discard(job.id)
        if decision.verdict is Verdict.LEAVE and decision.until is not None:
            # Held by another replica: re-planning now would find it due and fire it again at
            # once, a loop; its holder finishes it or its lease ends first.
            with self._jobs_gate:
                if not self._stopping.is_set():
                    self._schedule(job, decision.until)
        elif job.kind != "recheck" and not self._stopping.is_set():
            self.sync()  # a new alert wants its re-check; a new schedule its jobs

    def _deliver(self) -> None:
        self._outbox.deliver_due()

    def _escalate(self) -> None:
        if self._service.escalate_due():
            self._deliver()

    def _prune(self) -> None:
        removed = self._service.prune(self._retention)
        logger.info("retention: removed %d old rows", removed)
