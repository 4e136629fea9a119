"""Benchmark: 1, 2 and 3 `serve` replicas on one PostgreSQL database; the fleet's check
throughput, and the time from a replica's kill -9 to its checks being taken over.

    uv run python bench/replicas.py [--hosts 200] [--latency-ms 50] [--lease-s 10]

Needs the local PostgreSQL of the tests (127.0.0.1:5432, database `test`). The simulated
hosts and the loopback Slack run in this process; each replica is a process of its own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402

from tests.conftest import postgres_schema  # noqa: E402
from tests.support.fleet import SimulatedFleet  # noqa: E402
from tests.support.replicas import (  # noqa: E402
    Replica,
    copied_fleet,
    run_states,
    wait_until,
    write_config,
)
from tests.support.slack_api import SlackStandIn  # noqa: E402

WORKERS = 8  # alerts.scheduler_workers' default


@dataclass(frozen=True)
class Figures:
    """One replica count's results."""

    replicas: int
    checks_per_s: float
    wall_s: float
    taken_over: int
    takeover_p50_s: float
    takeover_max_s: float


def shells(fleet: SimulatedFleet) -> int:
    """WinRM shells opened across the fleet: checks that reached their host."""
    return sum(fleet.actions_for(name).count("Create") for name in fleet.profiles)


def throughput(replicas: int, hosts: int, latency_ms: int, lease_s: int) -> tuple[float, float]:
    """Checks per second from the first shell opened to the last check finished."""
    with (
        SlackStandIn() as stand_in,
        copied_fleet(0, hosts, latency_ms) as fleet,
        postgres_schema() as database,
        tempfile.TemporaryDirectory() as workdir,
    ):
        config = write_config(Path(workdir) / "c.yaml", fleet, database, lease_s, WORKERS)
        started = [Replica(config, stand_in, Path(workdir), f"r{i}") for i in range(replicas)]
        try:
            wait_until(lambda: shells(fleet) > 0, 120, "the first check")
            begin = time.monotonic()
            wait_until(
                lambda: run_states(database).get("check:done", 0) == hosts, 600, "every check"
            )
            wall = time.monotonic() - begin
        finally:
            for replica in started:
                replica.stop()
        return hosts / wall, wall


def takeover(replicas: int, hosts: int, latency_ms: int, lease_s: int) -> list[float]:
    """Seconds from a kill -9 to each of the dead replica's running checks having a new owner.
    With one replica, a new one is started at once (an orchestrator's restart)."""
    with (
        SlackStandIn() as stand_in,
        copied_fleet(0, hosts, latency_ms) as fleet,
        postgres_schema() as database,
        tempfile.TemporaryDirectory() as workdir,
    ):
        path = Path(workdir)
        config = write_config(path / "c.yaml", fleet, database, lease_s, WORKERS)
        started = [Replica(config, stand_in, path, f"r{i}") for i in range(replicas)]
        engine = create_engine(database)
        try:
            wait_until(lambda: shells(fleet) >= hosts // 4, 120, "a quarter of the checks")
            victim = started.pop(0)
            victim.kill()
            killed = time.monotonic()
            if not started:
                started.append(Replica(config, stand_in, path, "restarted"))
            held = _held_by(engine, victim.process.pid)
            taken: dict[str, float] = {}
            deadline = time.monotonic() + 10 * lease_s + 60
            while len(taken) < len(held) and time.monotonic() < deadline:
                for server, owner in _owners(engine, held).items():
                    if server not in taken and f":{victim.process.pid}:" not in (owner or ""):
                        taken[server] = time.monotonic() - killed
                time.sleep(0.05)
            if len(taken) < len(held):
                raise SystemExit(f"{len(held) - len(taken)} of the dead replica's checks stayed")
            return list(taken.values())
        finally:
            for replica in started:
                replica.stop()
            engine.dispose()


def _held_by(engine: Engine, pid: int) -> list[str]:
    """The servers whose check a replica (by its pid) held, unfinished."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT server FROM scheduled_runs WHERE state = 'running' AND owner LIKE :o"),
            {"o": f"%:{pid}:%"},
        ).all()
    return [row[0] for row in rows]


def _owners(engine: Engine, servers: list[str]) -> dict[str, str | None]:
    """Who holds (or finished) each server's run now; a finished run keeps its owner."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT server, owner FROM scheduled_runs WHERE server = ANY(:s)"),
            {"s": servers},
        ).all()
    return {server: owner for server, owner in rows}


def measure(replicas: int, hosts: int, latency_ms: int, lease_s: int) -> Figures:
    """Throughput and takeover for one replica count."""
    rate, wall = throughput(replicas, hosts, latency_ms, lease_s)
    delays = takeover(replicas, hosts, latency_ms, lease_s)
    return Figures(
        replicas,
        rate,
        wall,
        len(delays),
        statistics.median(delays) if delays else float("nan"),
        max(delays, default=float("nan")),
    )


def main() -> None:
    """Measure 1, 2 and 3 replicas and print a Markdown table, ratios against 1 replica."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--lease-s", type=int, default=10)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    results = [measure(n, args.hosts, args.latency_ms, args.lease_s) for n in args.replicas]
    base = results[0]
    print(
        f"{args.hosts} hosts, {args.latency_ms} ms per request, {WORKERS} workers per replica, "
        f"lease {args.lease_s} s"
    )
    print("| replicas | checks/s | wall | vs 1 | checks taken over | takeover p50 / max |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.replicas} | {r.checks_per_s:.1f} | {r.wall_s:.1f} s "
            f"| {r.checks_per_s / base.checks_per_s:.2f}× | {r.taken_over} "
            f"| {r.takeover_p50_s:.1f} s / {r.takeover_max_s:.1f} s |"
        )


if __name__ == "__main__":
    main()
