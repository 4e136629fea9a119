"""Three real replicas on one PostgreSQL database, one killed with kill -9 at a random moment
of its checks; and a rolling restart of two. Every lead-time check runs, none runs twice, and
every failing host gets exactly one alert with its details in the thread."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fleet import SimulatedFleet
from tests.support.replicas import (
    Replica,
    alerts_by_host,
    copied_fleet,
    failing,
    run_states,
    settled,
    wait_until,
    write_config,
)
from tests.support.slack_api import SlackStandIn

FAILING, HEALTHY = 12, 24  # a third of the fleet fails before the window
LATENCY_MS = 40  # per WS-Management request: a check takes about 8 of them
WORKERS = 3  # per replica, so that the fleet takes a few seconds and a kill lands mid-flight
LEASE_S = 10  # the smallest allowed: a dead replica's checks are taken over quickly
SEEDS = range(5)
TOOK_OVER = re.compile(r"took over the check of (\S+):")

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def fleet() -> Iterator[SimulatedFleet]:
    with copied_fleet(FAILING, HEALTHY, LATENCY_MS) as running:
        yield running


def _shells(fleet: SimulatedFleet) -> dict[str, int]:
    """WinRM shells opened per host: one per check that reached the host."""
    return {name: fleet.actions_for(name).count("Create") for name in fleet.profiles}


def _stop_all(replicas: list[Replica]) -> list[int]:
    """SIGTERM to all at once (as an orchestrator does), then their exit statuses; none is
    left running for the fixture that drops the database."""
    for replica in replicas:
        replica.terminate()
    try:
        return [replica.stop() for replica in replicas]
    finally:
        for replica in replicas:
            replica.ensure_gone()


def _assert_one_alert_per_failing_host(stand_in: SlackStandIn) -> None:
    alerts = alerts_by_host(stand_in)
    # Each failing host: one alert message and one reply, its details, in that message's thread.
    assert alerts == {failing(i): (1, 1) for i in range(FAILING)}


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_of_one_of_three_replicas_loses_and_doubles_nothing(
    seed: int, stand_in: SlackStandIn, fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible moment, not a secret
    hosts = len(fleet.profiles)
    config = write_config(tmp_path / "backupcheck.yaml", fleet, database_url, LEASE_S, WORKERS)
    replicas = [Replica(config, stand_in, tmp_path, f"replica-{i}") for i in range(3)]
    victim = replicas.pop(rng.randrange(3))
    try:
        # The random moment: once that many shells were opened across the fleet (progress, not
        # seconds, so that a slow machine moves the moment along with the checks).
        moment = rng.randrange(hosts)
        wait_until(lambda: sum(_shells(fleet).values()) >= moment, 60, "checks under way")
        victim.kill()
        wait_until(lambda: settled(database_url, hosts), 90, "every check done and delivered")
    finally:
        victim.ensure_gone()
        codes = _stop_all(replicas)
    outputs = [replica.output() for replica in replicas]
    assert codes == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs)
    assert run_states(database_url) == {"check:done": hosts}
    _assert_one_alert_per_failing_host(stand_in)
    # "Checked twice" means a second check of a host for the same window that nothing forced:
    # the only one allowed is a survivor's takeover of a check whose lease ran out with the
    # killed replica, which may have opened a shell first. So: one shell per host, at most two
    # for a host taken over, and each host taken over at most once.
    taken_over = [host for output in outputs for host in TOOK_OVER.findall(output)]
    assert len(taken_over) == len(set(taken_over))
    shells = _shells(fleet)
    for host, count in shells.items():
        assert count in ((1, 2) if host in taken_over else (1,)), (host, count, taken_over)


def test_a_rolling_restart_during_the_lead_time_misses_and_doubles_nothing(
    stand_in: SlackStandIn, fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    hosts = len(fleet.profiles)
    config = write_config(tmp_path / "backupcheck.yaml", fleet, database_url, LEASE_S, WORKERS)
    first, second = (Replica(config, stand_in, tmp_path, f"old-{i}") for i in range(2))
    started = [first, second]
    codes = []
    try:
        wait_until(lambda: sum(_shells(fleet).values()) >= hosts // 4, 60, "checks under way")
        codes.append(first.stop())  # SIGTERM: its queued checks go back at once
        third = Replica(config, stand_in, tmp_path, "new-0")
        started.append(third)
        wait_until(lambda: sum(_shells(fleet).values()) >= hosts // 2, 60, "more checks")
        codes.append(second.stop())
        wait_until(lambda: settled(database_url, hosts), 90, "every check done and delivered")
        codes.append(third.stop())
    finally:
        for replica in started:
            replica.ensure_gone()
    outputs = [replica.output() for replica in started]
    assert codes == [0, 0, 0], outputs
    assert not any("Traceback" in output for output in outputs)
    assert run_states(database_url) == {"check:done": hosts}
    # A SIGTERM hands back queued checks and lets running ones finish: nothing to take over,
    # so exactly one shell per host.
    assert not any(TOOK_OVER.search(output) for output in outputs)
    assert _shells(fleet) == dict.fromkeys(fleet.profiles, 1)
    _assert_one_alert_per_failing_host(stand_in)
