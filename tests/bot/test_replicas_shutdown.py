"""SIGTERM to a real `serve` replica while its check hangs on a slow host: it exits within
alerts.shutdown_grace_s and a small margin, hands the check back, and the other replica takes
it over at once (not when the lease would have ended); the host gets one alert."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.support.fleet import SimulatedFleet
from tests.support.replicas import (
    Replica,
    alerts_by_host,
    copied_fleet,
    failing,
    settled,
    wait_until,
    write_config,
)
from tests.support.slack_api import SlackStandIn

GRACE_S = 2
LEASE_S = 60  # far longer than the takeover may take: a takeover at its end would fail the test
# Per WS-Management request while the first replica checks: a check takes about 8 of them, far
# past the grace; the host answers at once by the time the other replica takes the check over.
SLOW_MS = 10_000
# After the grace: the interpreter's exit (1 to 2 s here; Slack is closed during the grace).
EXIT_MARGIN_S = 5
# The other replica looks for handed-back checks every 5 s (runner.FREE_EVERY).
TAKEOVER_WITHIN_S = GRACE_S + 5 + 4
HOST = failing(0)

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def slow_host() -> Iterator[SimulatedFleet]:
    with copied_fleet(1, 0, SLOW_MS) as running:
        yield running


def _config(path: Path, fleet: SimulatedFleet, database: str) -> Path:
    write_config(path, fleet, database, LEASE_S, 2, shutdown_grace_s=GRACE_S)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # The host is slow, not dead: its check would finish, long after the grace.
    document["defaults"] |= {"deadline_s": 120, "read_timeout_s": 30}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _owner(database: str) -> str | None:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT owner FROM scheduled_runs WHERE kind = 'check' AND state = 'running'")
            ).scalar()
    finally:
        engine.dispose()


def test_sigterm_hands_a_hanging_check_to_the_other_replica_and_exits_within_the_grace(
    stand_in: SlackStandIn, slow_host: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path / "backupcheck.yaml", slow_host, database_url)
    first = Replica(config, stand_in, tmp_path, "first")
    started = [first]
    try:
        # The first replica claims the check; its host answers every request after 10 s.
        wait_until(lambda: "scheduled checks are on" in first.output(), 60, "first planned")
        wait_until(lambda: _owner(database_url) is not None, 60, "the check claimed")
        claimed_by = _owner(database_url)
        second = Replica(config, stand_in, tmp_path, "second")
        started.append(second)
        # Up and planned: it finds the check held and would look again at the lease's end.
        wait_until(lambda: "scheduled checks are on" in second.output(), 60, "second planned")
        assert _owner(database_url) == claimed_by
        sigterm = time.monotonic()
        first.terminate()
        wait_until(lambda: "handed back" in first.output(), GRACE_S + 30, "the hand-back")
        # From now on the host answers at once, so that the takeover's check is quick.
        fast = slow_host.profiles[HOST].model_copy(update={"latency_ms": 0})
        slow_host.set_profile(HOST, fast)
        assert first.stop(timeout=GRACE_S + 30) == 0
        exited_after = time.monotonic() - sigterm
        took_over = re.compile(rf"took over the check of {HOST}:")
        wait_until(lambda: bool(took_over.search(second.output())), 60, "the takeover")
        taken_after = time.monotonic() - sigterm
        wait_until(lambda: settled(database_url, 1), 60, "the check done and delivered")
        assert second.stop() == 0
    finally:
        for replica in started:
            replica.ensure_gone()
    print(f"exited {exited_after:.2f} s after SIGTERM; taken over after {taken_after:.2f} s")
    assert exited_after < GRACE_S + EXIT_MARGIN_S
    assert taken_after < TAKEOVER_WITHIN_S  # not at the lease's end, 60 s on
    outputs = [replica.output() for replica in started]
    assert not any("Traceback" in output for output in outputs), outputs
    assert "1 checks were still running 2 s after SIGTERM" in outputs[0]
    assert "handed back 1 unfinished checks" in outputs[0]
    # The first replica's check was cut short and recorded nothing: one alert, with its details.
    assert alerts_by_host(stand_in) == {HOST: (1, 1)}
