"""The fleet: a bounded pool, a deadline per host, and one bad host never spoils the others."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from checks.collect.errors import CollectError
from checks.fleet import check_fleet
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.report import Report, Status
from checks.snapshot import Snapshot


def _servers(*names: str, deadline_s: float = 30) -> list[Server]:
    return Inventory.model_validate(
        {
            "defaults": {"deadline_s": deadline_s},
            "servers": [{"name": n, "address": f"{n}.example"} for n in names],
        }
    ).resolved()


def test_at_most_workers_hosts_are_checked_at_once_and_order_is_kept(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    seed = load_snapshot("seed-incident")
    running, peak, lock = 0, 0, threading.Lock()

    def collect(server: Server) -> Snapshot:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return seed.model_copy(update={"host": server.name})

    done: list[str] = []
    servers = _servers(*(f"srv{n:02}" for n in range(12)))
    reports = check_fleet(servers, collect, en, workers=4, progress=lambda r: done.append(r.host))
    assert peak == 4
    assert [r.host for r in reports] == [s.name for s in servers]
    assert sorted(done) == sorted(s.name for s in servers)
    assert all(r.status is Status.CRITICAL for r in reports)


def test_broken_and_slow_hosts_are_unknown_and_the_others_are_checked(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    release = threading.Event()

    def collect(server: Server) -> Snapshot:
        if server.name == "refused":
            raise CollectError("refused", where="refused.example:5985", port=5985)
        if server.name == "buggy":
            raise KeyError("bug")
        if server.name == "slow":
            release.wait(10)
        return load_snapshot("network-space-unknown")

    servers = _servers("ok1", "refused", "buggy", "ok2", "slow", deadline_s=0.5)
    started = time.monotonic()
    reports = check_fleet(servers, collect, en, workers=8)
    elapsed = time.monotonic() - started
    release.set()
    by_name: dict[str, Report] = dict(zip([s.name for s in servers], reports, strict=True))
    assert elapsed < 2
    assert by_name["ok1"].status is by_name["ok2"].status is Status.OK
    assert by_name["refused"].findings[0].message == (
        "refused could not be checked: connection refused by refused.example:5985 "
        "(is WinRM listening on 5985?)"
    )
    assert "internal error (KeyError)" in by_name["buggy"].findings[0].message
    assert by_name["slow"].status is Status.UNKNOWN
    assert by_name["slow"].findings[0].message == (
        "slow could not be checked: timed out after 0.5 s: the check did not finish in time"
    )


def test_an_empty_fleet_is_an_empty_list(en: Catalog) -> None:
    def never(server: Server) -> Snapshot:
        raise AssertionError(server)

    assert check_fleet([], never, en) == []


def test_reports_carry_the_clock(
    load_snapshot: Callable[[str], Snapshot], en: Catalog, now: datetime
) -> None:
    (report,) = check_fleet(
        _servers("a"), lambda s: load_snapshot("seed-incident"), en, clock=lambda: now
    )
    assert report.checked_at == now


def test_reports_use_the_inventory_name_and_note_a_machine_calling_itself_otherwise(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    seed = load_snapshot("seed-incident")  # the machine calls itself SERVER01
    same, other = _servers("server01.corp.example", "fs01")
    reports = check_fleet([same, other], lambda server: seed, en)
    assert [r.host for r in reports] == ["server01.corp.example", "fs01"]
    assert "HOST_NAME_DIFFERS" not in [f.code for f in reports[0].findings]
    (note,) = [f for f in reports[1].findings if f.code == "HOST_NAME_DIFFERS"]
    assert note.severity.value == "info"
    assert note.message == (
        "fs01 answered as SERVER01; "
        "if that is not the same machine, check its address in the config."
    )


def test_why_a_host_could_not_be_checked_is_said_in_the_readers_language(ja: Catalog) -> None:
    def refuse(server: Server) -> Snapshot:
        raise CollectError("refused", where="10.0.0.9:5985", port=5985)

    (report,) = check_fleet(_servers("fs09"), refuse, ja)
    assert report.findings[0].message == (
        "fs09 をチェックできませんでした: 10.0.0.9:5985 に接続を拒否されました "
        "(WinRM はポート 5985 で待ち受けていますか?)"
    )


def test_a_host_that_never_answers_does_not_keep_the_process_from_exiting(
    tmp_path: Path,
) -> None:
    # A ThreadPoolExecutor's threads are joined at interpreter exit: one stuck host used to
    # keep `backupcheck check` alive long after it printed its results.
    script = tmp_path / "stuck.py"
    script.write_text(
        "import threading\n"
        "from checks.fleet import check_fleet\n"
        "from checks.i18n import Catalog\n"
        "from checks.inventory import Inventory\n"
        "servers = Inventory.model_validate({'defaults': {'deadline_s': 0.2},"
        " 'servers': [{'name': 'stuck', 'address': 'stuck.example'}]}).resolved()\n"
        "(report,) = check_fleet(servers, lambda s: threading.Event().wait(), Catalog('en'))\n"
        "print(report.status.value)\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "unknown"), result.stderr
    assert time.monotonic() - started < 10
