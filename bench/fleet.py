"""Benchmark: check a simulated fleet over WinRM and print requests, wall time, CPU and memory.

    uv run python bench/fleet.py [--hosts 1000] [--latency-ms 50] [--workers 32]

The simulated hosts run in a child process, pinned to a core of their own where the machine has
two or more, so the figures are the checker's own. The wall time is compared with a floor measured
in the same run: the same pool doing nothing but sleeping for each check's requests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import winrm  # noqa: E402

from bench.cores import split_cores  # noqa: E402
from bot.i18n import catalog  # noqa: E402
from checks.collect.winrm import winrm_collect  # noqa: E402
from checks.fleet import DEFAULT_WORKERS, check_fleet  # noqa: E402
from checks.inventory import Inventory, Server  # noqa: E402
from checks.report import Status  # noqa: E402
from checks.snapshot import Snapshot, parse_snapshot  # noqa: E402
from tests.support.fleet import SimulatedFleet  # noqa: E402
from tests.support.fleet_profiles import HostProfile, load_profile  # noqa: E402

USER, PASSWORD = "svc-backupcheck", "Bench-Password-1"
# The naive way: one command (and one shell) per fact the probe gathers in one go.
NAIVE_FACTS = [
    "Get-CimInstance Win32_Volume",
    "Get-CimInstance Win32_ShadowStorage",
    "Get-WBPolicy",
    "Get-WBVolume -AllVolumes",
    "Get-WBBackupTarget -Policy (Get-WBPolicy)",
    "Get-WBSchedule -Policy (Get-WBPolicy)",
    "Get-WBSummary",
]


def serve(names: list[str], latency_ms: int, pipe: Connection, cores: set[int] | None) -> None:
    """Child process: run the simulated fleet until told to stop, then report its counters."""
    if cores is not None:
        os.sched_setaffinity(0, cores)
    seed = load_profile(ROOT / "tests" / "fixtures" / "hosts" / "fs01.json")
    profile = HostProfile(snapshot=seed.snapshot, latency_ms=latency_ms, fault=None)
    with SimulatedFleet({n: profile for n in names}, users={USER: PASSWORD}) as fleet:
        pipe.send({n: fleet.address_of(n) for n in names})
        while (request := pipe.recv()) != "stop":
            if request == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                pipe.send(usage.ru_utime + usage.ru_stime)
            else:
                pipe.send(
                    {n: (len(fleet.actions_for(n)), fleet.http_requests_for(n)) for n in names}
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--baseline-hosts", type=int, default=20)
    args = parser.parse_args()

    names = [f"host{n:04}" for n in range(args.hosts)]
    baseline_names = [f"naive{n:03}" for n in range(args.baseline_hosts)]
    pinned = split_cores()
    ours, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=serve,
        args=(names + baseline_names, args.latency_ms, child, pinned and pinned[1]),
        daemon=True,
    )
    server.start()
    if pinned is not None:
        os.sched_setaffinity(0, pinned[0])
    child.close()  # so that recv() fails instead of hanging if the fleet process dies
    addresses: dict[str, tuple[str, int]] = ours.recv()

    inventory = Inventory.model_validate(
        {
            "defaults": {"credential": "bench", "deadline_s": 120},
            "credentials": {"bench": {"username": USER, "password_env": "BENCH_PASSWORD"}},
            "servers": [
                {"name": n, "address": addresses[n][0], "port": addresses[n][1]} for n in names
            ],
        }
    )
    collect = winrm_collect(inventory, {"BENCH_PASSWORD": PASSWORD})
    durations: list[float] = []

    def timed(server_: object) -> object:
        started = time.perf_counter()
        try:
            return collect(server_)  # type: ignore[arg-type]
        finally:
            durations.append(time.perf_counter() - started)

    ours.send("cpu")
    fleet_cpu_before: float = ours.recv()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_started = time.perf_counter()
    reports = check_fleet(inventory.resolved(), timed, catalog("en"), workers=args.workers)  # type: ignore[arg-type]
    wall = time.perf_counter() - wall_started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    ours.send("cpu")
    fleet_cpu = ours.recv() - fleet_cpu_before

    naive_started = time.perf_counter()
    for name in baseline_names:
        address, port = addresses[name]
        session = winrm.Session(
            f"http://{address}:{port}/wsman", auth=(USER, PASSWORD), transport="ntlm"
        )
        for fact in NAIVE_FACTS:
            session.run_ps(fact)
    naive_wall = time.perf_counter() - naive_started

    ours.send("counters")
    counters: dict[str, tuple[int, int]] = ours.recv()
    ours.send("stop")
    server.join(timeout=30)
    floor = sleep_floor(inventory, names, counters, args.latency_ms, args.workers)

    ws_ours = statistics.mean(counters[n][0] for n in names)
    http_ours = statistics.mean(counters[n][1] for n in names)
    ws_naive = statistics.mean(counters[n][0] for n in baseline_names)
    http_naive = statistics.mean(counters[n][1] for n in baseline_names)
    per_check = http_ours * args.latency_ms / 1000
    ideal = args.hosts * per_check / args.workers
    statuses = {s.value: sum(r.status is s for r in reports) for s in Status}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"hosts {args.hosts}, latency {args.latency_ms} ms per request, pool {args.workers}")
    print(f"results: {', '.join(f'{k} {v}' for k, v in statuses.items() if v)}")
    print(
        f"WS-Management requests per check: {ws_ours:.2f} (naive, one command per fact: "
        f"{ws_naive:.2f}, {ws_naive / ws_ours:.1f}x)"
    )
    print(
        f"HTTP requests per check incl. NTLM handshake: {http_ours:.2f} (naive: {http_naive:.2f})"
    )
    print(
        f"per-check latency floor: {per_check * 1000:.0f} ms; one check took "
        f"p50 {statistics.median(durations) * 1000:.0f} ms, "
        f"p99 {sorted(durations)[int(len(durations) * 0.99) - 1] * 1000:.0f} ms"
    )
    print(
        f"wall time: {wall:.2f} s; floor {floor:.2f} s (the same pool, only sleeping for each "
        f"check's requests): ratio {wall / floor:.2f}; formula ideal {ideal:.2f} s "
        f"(hosts x per-check latency / pool): ratio {wall / ideal:.2f}"
    )
    print(
        f"naive baseline: {naive_wall / max(1, args.baseline_hosts) * 1000:.0f} ms per host, "
        f"serially ({args.baseline_hosts} hosts)"
    )
    print(f"checker CPU: {cpu * 1000 / args.hosts:.1f} ms per host check ({cpu:.1f} s in all)")
    print(f"checker peak memory (max RSS): {peak_mb:.0f} MB")
    cores = len(os.sched_getaffinity(0) | (pinned[1] if pinned else set()))
    where = (
        f"pinned to core {min(pinned[1])}, the checker to {sorted(pinned[0])}"
        if pinned
        else "on the same single core as the checker (this machine has one): the figures mix both"
    )
    print(
        f"simulated fleet CPU: {fleet_cpu * 1000 / args.hosts:.1f} ms per host check, {where}; "
        f"both processes used {(cpu + fleet_cpu) / (wall * cores) * 100:.0f}% of the machine "
        "while checking"
    )
    print(
        f"the checker is one Python process: its {cpu:.1f} s of CPU (one core at most, under the "
        f"GIL) bound the wall time from below; it kept {cpu / wall * 100:.0f}% of one core busy"
    )


def sleep_floor(
    inventory: Inventory,
    names: list[str],
    counters: dict[str, tuple[int, int]],
    latency_ms: int,
    workers: int,
) -> float:
    """Wall time of the same pool over the same hosts when a check only sleeps per request."""
    seed = parse_snapshot(
        load_profile(ROOT / "tests" / "fixtures" / "hosts" / "fs01.json").snapshot
    )
    requests_of = {n: counters[n][1] for n in names}

    def sleep_only(server: Server) -> Snapshot:
        for _ in range(requests_of[server.name]):
            time.sleep(latency_ms / 1000)
        return seed

    started = time.perf_counter()
    check_fleet(inventory.resolved(), sleep_only, catalog("en"), workers=workers)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
