"""Checks many servers at once: a bounded pool, a deadline per host, progress as hosts finish."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from checks.collect.errors import CollectError
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.inventory import Server
from checks.report import Finding, Report, Status
from checks.rules import Code
from checks.snapshot import Snapshot

logger = logging.getLogger(__name__)

DEFAULT_WORKERS = 32
Collect = Callable[[Server], Snapshot]
Progress = Callable[[Report], None]
Clock = Callable[[], datetime]


def check_one(server: Server, collect: Collect, catalog: Catalog, clock: Clock) -> Report:
    """Collect and evaluate one server; every failure becomes an `unknown` report."""
    try:
        return _named(evaluate(collect(server), clock(), catalog), server, catalog)
    except CollectError as error:
        return unknown_report(server.name, error.text(catalog), clock(), catalog)
    except Exception as error:  # a bug met by one host must not stop the others
        logger.exception("internal error while checking %s", server.name)
        reason = catalog.text("fleet.internal_error", kind=type(error).__name__)
        return unknown_report(server.name, reason, clock(), catalog)


def _named(report: Report, server: Server, catalog: Catalog) -> Report:
    """Report under the inventory's name (what people type and alerts are keyed by); say so
    when the machine calls itself something else, which can mean its address is wrong."""
    if report.host.casefold().split(".")[0] == server.name.casefold().split(".")[0]:
        return report.model_copy(update={"host": server.name})
    note = Finding(
        severity=Status.INFO,
        code=Code.HOST_NAME_DIFFERS.value,
        volume_id=None,
        message=catalog.text("finding.HOST_NAME_DIFFERS", name=server.name, host=report.host),
    )
    return report.model_copy(update={"host": server.name, "findings": [*report.findings, note]})


def check_fleet(
    servers: Sequence[Server],
    collect: Collect,
    catalog: Catalog,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> list[Report]:
    """Reports for all servers, in the order given; a host past its deadline is `unknown`."""
    reports: list[Report | None] = [None] * len(servers)
    done: queue.SimpleQueue[tuple[int, Report]] = queue.SimpleQueue()
    running: dict[int, float] = {}  # index -> when its check started; at most `workers` entries
    lock = threading.Lock()

    def task(index: int) -> None:
        with lock:
            running[index] = time.monotonic()
        report = check_one(servers[index], collect, catalog, clock)
        with lock:
            # Gone from `running` means the deadline already answered for this host.
            if running.pop(index, None) is not None:
                done.put((index, report))

    def finish(index: int, report: Report) -> None:
        reports[index] = report
        if progress is not None:
            progress(report)

    stop = _start_workers(len(servers), task, workers)
    try:
        remaining = len(servers)
        while remaining:
            try:
                finish(*done.get(timeout=0.25))
                remaining -= 1
            except queue.Empty:
                pass
            now = time.monotonic()
            with lock:
                overdue = [i for i, began in running.items() if now - began > servers[i].deadline_s]
                for index in overdue:
                    del running[index]
            for index in overdue:
                # The worker cannot be killed: the collector's own deadline ends it, and as a
                # daemon thread it never holds up the process's exit.
                server = servers[index]
                reason = catalog.text("fleet.deadline", seconds=f"{server.deadline_s:g}")
                finish(index, unknown_report(server.name, reason, clock(), catalog))
                remaining -= 1
    finally:
        stop.set()
    return [report for report in reports if report is not None]


def _start_workers(count: int, task: Callable[[int], None], workers: int) -> threading.Event:
    """Run task(0..count-1) on up to `workers` daemon threads; set the event to start no more.

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so one host that
    never answers would keep `backupcheck check` from exiting after it printed the results.
    """
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(count):
        pending.put(index)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            task(index)

    for number in range(min(max(1, workers), count)):
        threading.Thread(target=work, name=f"check-{number}", daemon=True).start()
    return stop
