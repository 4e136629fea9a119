"""The scheduled checks in the running bot: APScheduler fires each job at its time, the Driver
(driver.py) decides and runs it; a SIGTERM hands back what this replica holds and exits soon.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts.liveness import Liveness
from bot.alerts.outbox import Outbox
from bot.alerts.schedule.driver import Driver
from bot.alerts.schedule.leases import Verdict
from bot.alerts.schedule.plan import Job, Plan, SchedulePolicy
from bot.alerts.schedule.pool import DaemonExecutor
from bot.alerts.schedule.renewal import Renewal
from bot.alerts.service import AlertService

__all__ = ["JOB_PREFIXES", "Driver", "Scheduler"]
logger = logging.getLogger(__name__)
JOB_PREFIXES = ("check:", "recheck:", "discover:", "verify:", "survey:", "forecast:")
Clock = Callable[[], datetime]
RETENTION_EVERY = timedelta(hours=24)
# How often a replica looks for checks another replica handed back (or let lapse), to take
# them over at once rather than when it would have looked again (their lease's end).
FREE_EVERY = timedelta(seconds=5)
# On stopping, a database write under way (a claim, a result, a renewal) gets this long to end.
WRITES_END_S = 10.0


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
        grace: timedelta = timedelta(seconds=20),
    ) -> None:
        self._driver = driver
        self.liveness = liveness
        self._service = service
        self._outbox = outbox
        self._policy = policy
        self._retention = retention
        self._clock = clock
        self.grace = grace
        # Jobs handed to a worker and not done yet (checks, and retention while it prunes).
        self._in_flight: set[str] = set()
        self._lock = threading.Condition()
        # Held to touch APScheduler's jobs from a worker, and to start stopping: once stopping
        # has begun, no worker adds a job (APScheduler's shutdown takes the job-store lock).
        self._jobs_gate = threading.Lock()
        self._stopping = threading.Event()  # no new claims
        # The weekly summary's check, every few minutes (summary_job.py); None: not configured.
        self.summary: Callable[[], object] | None = None
        self._renewal = Renewal(
            service.schedule, driver.replica, driver.lease, clock, self._holds_leases
        )
        # Daemon threads: past the grace, a check hanging on a slow host must not hold the
        # process (see pool.py). Checks wait on slow hosts; the rest must never wait on them.
        self._checks = DaemonExecutor(workers, "check-job")
        self._housekeeping = DaemonExecutor(2, "housekeeping")
        self.apscheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"checks": self._checks, "default": self._housekeeping},
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
        every = FREE_EVERY.total_seconds()
        add(self.take_free, IntervalTrigger(seconds=every), id="free", replace_existing=True)
        # Soon after start too: a bot restarted daily would otherwise never prune.
        first_prune = self._clock() + timedelta(minutes=10)
        add(
            self.prune,
            IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
            id="retention",
            replace_existing=True,
            next_run_time=first_prune,
            misfire_grace_time=3600,
        )
        if self.summary is not None:
            add(self.summary, IntervalTrigger(minutes=5), id="summary", replace_existing=True)
        self.apscheduler.start(paused=paused)
        self._renewal.start()

    def stop(self, wait: bool = True) -> None:
        """Stop claiming: queued checks return unclaimed, free for the other replicas at once.
        With wait, running checks may finish within the grace; then what is still running is
        handed back to the other replicas, and the outbox is flushed while the grace lasts."""
        deadline = time.monotonic() + self.grace.total_seconds()
        with self._jobs_gate, self._lock:
            self._stopping.set()
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)  # the workers are waited for below, bounded
        if wait:
            with self._lock:
                idle = self._lock.wait_for(lambda: not self._in_flight, _left(deadline))
            if not idle:
                # Their results are left to whoever takes their leases over: from here on,
                # nothing they find is recorded.
                self._driver.abandon(timeout=WRITES_END_S)
                with self._lock:
                    running = len(self._in_flight)
                logger.warning(
                    "%d checks were still running %g s after SIGTERM; leaving them to the "
                    "other replicas",
                    running,
                    self.grace.total_seconds(),
                )
        self._renewal.stop(timeout=WRITES_END_S)
        if wait:
            released = self._service.schedule.release(self._driver.replica, self._clock())
            if released:
                logger.info("handed back %d unfinished checks to the other replicas", released)
            self._flush(deadline)
        if self.liveness is not None:
            self.liveness.stop()

    def _flush(self, deadline: float) -> None:
        """Deliver what the last checks enqueued, while the grace lasts."""
        self._housekeeping.pool.shutdown(wait=True, timeout=_left(deadline))
        if self._housekeeping.pool.busy():  # a round still delivers; it holds the outbox
            return
        while time.monotonic() < deadline:
            delivered = self._outbox.deliver_due(limit=10)
            if not delivered or any(d.state == "pending" for d in delivered):
                return  # nothing left, or Slack refuses for now: the other replicas go on

    def renew_leases(self) -> int:
        """Extend the leases of the jobs this replica is running; returns how many."""
        return self._renewal.renew()

    def _holds_leases(self) -> bool:
        with self._lock:
            return bool(self._in_flight)

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

    def take_free(self) -> int:
        """Fire at once the timed jobs of checks another replica handed back (a SIGTERM) or let
        lapse; returns how many. Their claim says whether each is still to run."""
        now = self._clock()
        free = self._service.schedule.free(self._driver.replica, now)
        fired = 0
        with self._jobs_gate:
            if not free or self._stopping.is_set():
                return 0
            for timed in self.apscheduler.get_jobs():
                if not timed.id.startswith(JOB_PREFIXES) or timed.next_run_time <= now:
                    continue
                job: Job = timed.args[0]
                if (job.server, job.kind, job.window_at) in free:
                    timed.modify(next_run_time=now)
                    fired += 1
        return fired

    def _run(self, job: Job) -> None:
        with self._lock:
            if self._stopping.is_set():  # shutting down: leave it to the other replicas
                return
            self._in_flight.add(job.id)
        try:
            decision = self._driver.run(job)
        finally:
            self._done(job.id)
        if decision.verdict is Verdict.LEAVE and decision.until is not None:
            # Held by another replica: re-planning now would find it due and fire it again at
            # once, a loop; its holder finishes it or its lease ends first.
            with self._jobs_gate:
                if not self._stopping.is_set():
                    self._schedule(job, decision.until)
        elif job.kind == "verify":
            # The next reading is at its parked claim's end; nothing else changed: no re-plan.
            with self._jobs_gate:
                if decision.runs and decision.until is not None and not self._stopping.is_set():
                    self._schedule(job, decision.until)
        elif job.kind != "recheck" and not self._stopping.is_set():
            self.sync()  # a new alert wants its re-check; a new schedule its jobs

    def _done(self, job_id: str) -> None:
        with self._lock:
            self._in_flight.discard(job_id)
            self._lock.notify_all()

    def _deliver(self) -> None:
        self._outbox.deliver_due()

    def _escalate(self) -> None:
        if self._service.escalate_due():
            self._deliver()

    def prune(self) -> int | None:
        """Retention, on one replica per day: None when another replica has it."""
        with self._lock:
            if self._stopping.is_set():
                return None
            self._in_flight.add("retention")
        try:
            removed = self._driver.prune(self._retention, RETENTION_EVERY)
        finally:
            self._done("retention")
        if removed is not None:
            logger.info("retention: removed %d old rows", removed)
        return removed


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
