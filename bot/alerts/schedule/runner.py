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

from bot.alerts.outbox import Outbox
from bot.alerts.schedule.plan import Job, Plan, SchedulePolicy, plan
from bot.alerts.service import AlertService

logger = logging.getLogger(__name__)
JOB_PREFIXES = ("check:", "recheck:", "discover:")
Clock = Callable[[], datetime]


class Driver:
    """Plans jobs from windows, runs each due job once, and gives up on long-missed ones."""

    def __init__(self, service: AlertService, policy: SchedulePolicy, clock: Clock) -> None:
        self._service = service
        self._policy = policy
        self._clock = clock
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
            logger.warning(
                "skipped the %s of %s for the %s window: it was due at %s, more than %s ago",
                job.kind,
                job.server,
                job.window_at.isoformat(),
                job.run_at.isoformat(),
                self._policy.grace,
            )
            store.finish(job, now, state="missed")
        return result

    def run(self, job: Job) -> None:
        """Run one job unless it already ran; a check that finds an open alert plans a re-check."""
        server = self._service.inventory.find(job.server)
        if server is None:  # removed from the inventory since the plan was made
            return
        if job.kind == "discover":
            with self._lock:
                if job.server in self._discovering:
                    return
                self._discovering.add(job.server)
            try:
                self._service.check(server, None, check_id=job.id)
            finally:
                with self._lock:
                    self._discovering.discard(job.server)
            return
        store = self._service.schedule
        now = self._clock()
        if now >= job.window_at:
            # Queued behind slow hosts until the backup started: too late to warn anyone.
            logger.warning(
                "skipped the %s of %s: its backup window started before a worker was free",
                job.kind,
                job.server,
                extra={"host": job.server, "check_id": job.id},
            )
            store.finish(job, now, state="missed")
            return
        if not store.claim(job, now):
            return
        try:
            self._service.check(server, job.window_at, check_id=job.id)
        finally:
            store.finish(job, self._clock())

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
    ) -> None:
        self._driver = driver
        self._service = service
        self._outbox = outbox
        self._policy = policy
        self._retention = retention
        self._clock = clock
        self._in_flight: set[str] = set()  # check jobs handed to a worker and not done yet
        self._lock = threading.Lock()
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
        self.sync(give_up=True)
        add = self.apscheduler.add_job
        add(self.sync, IntervalTrigger(minutes=5), id="plan", replace_existing=True)
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

    def stop(self, wait: bool = True) -> None:
        """Stop firing; with wait, running checks finish first."""
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=wait)

    def sync(self, give_up: bool = False) -> Plan:
        """Add (or replace) a timed job for everything planned, due ones at once, and drop the
        jobs the plan no longer has (a server's own schedule moved). Only start-up gives up on
        missed checks: a check queued behind slow hosts is late, not missed."""
        current = self._driver.plan(give_up=give_up)
        now = self._clock()
        grace = int(self._policy.grace.total_seconds()) or 1
        planned = {job.id for job in current.due + current.later}
        for stale in self.apscheduler.get_jobs():
            if stale.id.startswith(JOB_PREFIXES) and stale.id not in planned:
                stale.remove()
        for job in current.due + current.later:
            with self._lock:
                if job.id in self._in_flight:
                    continue
            self.apscheduler.add_job(
                self._run,
                DateTrigger(run_date=max(job.run_at, now)),
                args=[job],
                id=job.id,
                name=f"{job.kind} {job.server}",
                executor="checks",
                misfire_grace_time=grace,
                replace_existing=True,
            )
        return current

    def _run(self, job: Job) -> None:
        with self._lock:
            self._in_flight.add(job.id)
        try:
            self._driver.run(job)
        finally:
            with self._lock:
                self._in_flight.discard(job.id)
        if job.kind != "recheck":
            self.sync()  # a new alert wants its re-check; a new schedule its jobs

    def _deliver(self) -> None:
        self._outbox.deliver_due()

    def _escalate(self) -> None:
        if self._service.escalate_due():
            self._deliver()

    def _prune(self) -> None:
        removed = self._service.prune(self._retention)
        logger.info("retention: removed %d old rows", removed)
