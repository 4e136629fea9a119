"""Checks many servers at once: a bounded pool, a deadline per host, progress as hosts finish."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
        return unknown_report(server.name, error.reason, clock(), catalog)
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
    reports: dict[str, Report] = {}
    started: dict[str, float] = {}
    lock = threading.Lock()

    def task(server: Server) -> Report:
        with lock:
            started[server.name] = time.monotonic()
        return check_one(server, collect, catalog, clock)

    def finish(server: Server, report: Report) -> None:
        reports[server.name] = report
        if progress is not None:
            progress(report)

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="check")
    try:
        pending: dict[Future[Report], Server] = {pool.submit(task, s): s for s in servers}
        while pending:
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                finish(pending.pop(future), future.result())
            now = time.monotonic()
            for future, server in list(pending.items()):
                with lock:
                    began = started.get(server.name)
                if began is not None and now - began > server.deadline_s:
                    # The worker thread cannot be killed; pywinrm's own timeouts end it later.
                    del pending[future]
                    reason = catalog.text("fleet.deadline", seconds=f"{server.deadline_s:g}")
                    finish(server, unknown_report(server.name, reason, clock(), catalog))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [reports[s.name] for s in servers]
