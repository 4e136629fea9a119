"""Three real replicas on one PostgreSQL database, 60 hosts of which 20 fail, one replica killed
with kill -9 at a random moment of its checks, for 20 seeds; and a rolling restart of two. Every
lead-time check runs, none runs twice, every failing host gets exactly one alert with its
details in the thread, and each Acknowledge pressed is recorded once."""

from __future__ import annotations

import random
import re
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from websockets.exceptions import ConnectionClosed

from bot.alerts.message import ACK_ACTION
from tests.bot.conftest import control
from tests.conftest import postgres_schema
from tests.support.fleet import SimulatedFleet
from tests.support.replicas import (
    ALERT_CHANNEL,
    Replica,
    alert_tops,
    alerts_by_host,
    copied_fleet,
    event_counts,
    failing,
    run_states,
    settled,
    thread_texts,
    wait_until,
    watching,
    write_config,
)
from tests.support.slack_api import SlackStandIn

FAILING, HEALTHY = 20, 40  # a third of the fleet fails before the window
LATENCY_MS = 40  # per WS-Management request: a check takes about 8 of them
WORKERS = 3  # per replica, so that the fleet takes a few seconds and a kill lands mid-flight
LEASE_S = 10  # the smallest allowed: a dead replica's checks are taken over quickly
SEEDS = range(20)
# Seeds run side by side: most of a seed is spent waiting for the dead replica's leases to
# run out, so a few at once take hardly longer than one (each has its own fleet, Slack and
# schema; 3 replicas hold about 13 PostgreSQL connections in all).
PARALLEL = 4
PRESS_ACK_S = 3.0  # Slack shows the user an error when a press is not acknowledged in 3 s
TOOK_OVER = re.compile(r"took over the check of (\S+):")

pytestmark = pytest.mark.timeout(240)


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


class Presser:
    """Someone pressing Acknowledge on each alert as it appears, on a thread of its own. Slack
    hands each press to one of the app's open connections (one per replica); a press nobody
    acknowledges within 3 s (its replica was killed) shows the user an error, so they press
    again, until a replica acknowledges it."""

    def __init__(self, stand_in: SlackStandIn, seed: int) -> None:
        self._stand_in = stand_in
        self._rng = random.Random(seed)  # noqa: S311 - which connection, not a secret
        self.acknowledged: dict[str, int] = {}  # host: presses it took
        self.unanswered_of: dict[str, int] = {}  # host: presses nobody answered
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"presser-{seed}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> None:
        """Until every failing host's alert has had an acknowledged press."""
        self._thread.join(timeout)
        self._done.set()
        if self._error is not None:
            raise self._error
        assert len(self.acknowledged) == FAILING, f"pressed only {sorted(self.acknowledged)}"
        assert min(self.acknowledged.values()) >= 1  # none acknowledged without a press

    def _run(self) -> None:
        try:
            while len(self.acknowledged) < FAILING and not self._done.is_set():
                for host, top in sorted(alert_tops(self._stand_in).items()):
                    if host not in self.acknowledged and not self._done.is_set():
                        self._press(host, top)
                time.sleep(0.05)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            self._error = error

    def _press(self, host: str, top: dict[str, Any]) -> None:
        tries = self.unanswered_of.get(host, 0) + 1
        if not any(c["action_id"] == ACK_ACTION for c in _controls(top)):
            # A press that went unanswered was recorded after all: the message shows it.
            self.acknowledged[host] = tries - 1
            return
        sessions = [s.number for s in self._stand_in.socket.sessions() if s.open]
        if not sessions:
            return
        try:
            self._stand_in.deliver_block_action(
                ACK_ACTION,
                value=control(top, ACK_ACTION).get("value", ""),
                channel_id=ALERT_CHANNEL,
                message_ts=top["ts"],
                response_url=self._stand_in.response_url(),
                session=self._rng.choice(sessions),
            ).wait_ack(PRESS_ACK_S)
        except (AssertionError, ConnectionClosed):  # its connection closed, or no answer
            self.unanswered_of[host] = tries
            return
        self.acknowledged[host] = tries


def _controls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _kill_one_of_three(seed: int, workdir: Path) -> None:
    """One seed: three replicas with their own fleet, Slack and schema; one killed."""
    workdir.mkdir()
    with (
        SlackStandIn() as stand_in,
        copied_fleet(FAILING, HEALTHY, LATENCY_MS) as fleet,
        postgres_schema() as database,
        watching(database) as db,
    ):
        _chaos(seed, stand_in, fleet, database, db, workdir)
    assert not stand_in.errors
    assert not stand_in.socket.errors


def _chaos(
    seed: int,
    stand_in: SlackStandIn,
    fleet: SimulatedFleet,
    database: str,
    db: Engine,
    workdir: Path,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible moment, not a secret
    hosts = len(fleet.profiles)
    # No coalescing of a message's edits: an acknowledgement goes out at the next round.
    config = write_config(
        workdir / "backupcheck.yaml", fleet, database, LEASE_S, WORKERS, edit_interval_s=0
    )
    replicas = [Replica(config, stand_in, workdir, f"replica-{i}") for i in range(3)]
    victim = replicas.pop(rng.randrange(3))
    presser = Presser(stand_in, seed)
    try:
        # The random moment: once that many shells were opened across the fleet (progress, not
        # seconds, so that a slow machine moves the moment along with the checks).
        moment = rng.randrange(hosts)
        wait_until(lambda: sum(_shells(fleet).values()) >= moment, 60, "checks under way")
        victim.kill()
        presser.wait(90)
        wait_until(lambda: settled(db, hosts), 90, "every check done and delivered")
    finally:
        victim.ensure_gone()
        codes = _stop_all(replicas)
    outputs = [replica.output() for replica in replicas]
    assert codes == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs)
    assert run_states(db) == {"check:done": hosts}
    # Each failing host: one alert message; in its thread its details and one acknowledgement.
    # The press was recorded once, even when a replica died with it (the user pressed again).
    tops = alert_tops(stand_in)
    assert alerts_by_host(stand_in) == {failing(i): (1, 2) for i in range(FAILING)}
    assert event_counts(db, "acknowledge") == dict.fromkeys(tops, 1)
    for host, top in tops.items():
        replies = thread_texts(stand_in, top["ts"])
        assert sum(r.startswith("Acknowledged by <@U123>") for r in replies) == 1, (host, replies)
    # "Checked twice" means a second check of a host for the same window that nothing forced:
    # the only one allowed is a survivor's takeover of a check whose lease ran out with the
    # killed replica, which may have opened a shell first. So: one shell per host, at most two
    # for a host taken over, and each host taken over at most once.
    taken_over = [host for output in outputs for host in TOOK_OVER.findall(output)]
    assert len(taken_over) == len(set(taken_over))
    shells = _shells(fleet)
    for host, count in shells.items():
        assert count in ((1, 2) if host in taken_over else (1,)), (host, count, taken_over)


@pytest.mark.parametrize(
    "seeds",
    [SEEDS[i : i + PARALLEL] for i in range(0, len(SEEDS), PARALLEL)],
    ids=lambda seeds: f"seeds{seeds[0]}-{seeds[-1]}",
)
def test_kill_9_of_one_of_three_replicas_loses_and_doubles_nothing(
    seeds: range, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(len(seeds), thread_name_prefix="seed") as pool:
        runs = {
            seed: pool.submit(_kill_one_of_three, seed, tmp_path / f"seed{seed}") for seed in seeds
        }
    failed = {seed: run.exception() for seed, run in runs.items() if run.exception() is not None}
    if failed:
        report = [
            f"seed {seed}: " + "".join(traceback.format_exception(error))
            for seed, error in failed.items()
        ]
        pytest.fail("\n".join(report), pytrace=False)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
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
