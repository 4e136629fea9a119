"""Two real `serve --mode http` replicas on one PostgreSQL database behind a (pretend) load
balancer: presses of Acknowledge for one alert reaching both at the same moment make one
acknowledgement, and a signed request accepted by one replica is refused when replayed to the
other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.message import ACK_ACTION
from tests.bot.conftest import SIGNING_SECRET, control
from tests.support.fleet import SimulatedFleet
from tests.support.replicas import (
    Replica,
    alert_tops,
    copied_fleet,
    event_counts,
    failing,
    settled,
    thread_texts,
    wait_until,
    write_config,
)
from tests.support.slack_api import SlackStandIn
from tests.support.slack_signing import block_action_body, post, sign
from tests.support.slack_workspace import SlackUser

ROUNDS = 5  # failing hosts: one alert, and one round of simultaneous presses, each
SECOND_USER = SlackUser("U456", "bob", "Bob Admin")

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def fleet() -> Iterator[SimulatedFleet]:
    with copied_fleet(ROUNDS, 0, latency_ms=0) as running:
        yield running


@pytest.fixture
def replicas(
    stand_in: SlackStandIn, fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> Iterator[list[Replica]]:
    """Two HTTP-mode replicas, once every failing host's alert is posted with its details."""
    stand_in.users[SECOND_USER.id] = SECOND_USER
    # No coalescing of edits: an acknowledgement goes out at the next delivery round.
    config = write_config(
        tmp_path / "backupcheck.yaml", fleet, database_url, 10, 3, edit_interval_s=0
    )
    started = [
        Replica(config, stand_in, tmp_path, name, signing_secret=SIGNING_SECRET)
        for name in ("a", "b")
    ]
    try:
        for replica in started:
            replica.wait_listening()
        wait_until(lambda: settled(database_url, ROUNDS), 60, "every alert posted")
        yield started
        for replica in started:
            replica.terminate()  # both at once, as an orchestrator stops them
        codes = [replica.stop() for replica in started]
    finally:
        for replica in started:
            replica.ensure_gone()
    outputs = [replica.output() for replica in started]
    assert codes == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs)


def _press(stand_in: SlackStandIn, top: dict[str, Any], user: str) -> tuple[bytes, dict[str, str]]:
    """A press of the alert's Acknowledge button by user, as Slack signs and POSTs it."""
    body = block_action_body(
        ACK_ACTION,
        value=control(top, ACK_ACTION).get("value", ""),
        user_id=user,
        message_ts=top["ts"],
        blocks=top["blocks"],
        response_url=stand_in.response_url(),
        workspace=stand_in.workspace,
    )
    return body, sign(SIGNING_SECRET, body)


def _at_once(requests: list[tuple[str, bytes, dict[str, str]]]) -> list[int]:
    """POST each request on a thread of its own, all released by one barrier; their statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def send(index: int) -> None:
        url, body, headers = requests[index]
        barrier.wait(timeout=10)
        statuses[index] = post(url, body, headers)[0]

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return statuses


def test_acknowledge_pressed_at_two_replicas_at_once_is_one_acknowledgement(
    replicas: list[Replica], stand_in: SlackStandIn, database_url: str
) -> None:
    first, second = replicas
    tops = alert_tops(stand_in)
    assert sorted(tops) == [failing(i) for i in range(ROUNDS)]
    for host, top in tops.items():
        # Two people press at the same moment; the load balancer hands one press to each.
        alice = _press(stand_in, top, "U123")
        bob = _press(stand_in, top, SECOND_USER.id)
        assert _at_once([(first.url, *alice), (second.url, *bob)]) == [200, 200], host

    wait_until(lambda: settled(database_url, ROUNDS), 30, "the acknowledgements delivered")
    assert event_counts(database_url, "acknowledge") == dict.fromkeys(tops, 1)
    for host, top in tops.items():
        acknowledged = [t for t in thread_texts(stand_in, top["ts"]) if "Acknowledged" in t]
        assert len(acknowledged) == 1, (host, acknowledged)
        assert acknowledged[0].startswith(("Acknowledged by <@U123>", "Acknowledged by <@U456>"))


def test_a_request_accepted_by_one_replica_is_refused_when_replayed_to_the_other(
    replicas: list[Replica], stand_in: SlackStandIn, database_url: str
) -> None:
    first, second = replicas
    top = alert_tops(stand_in)[failing(0)]
    body, headers = _press(stand_in, top, "U123")
    assert post(first.url, body, headers)[0] == 200
    # Captured on the way and sent again within Slack's five minutes, to the other replica.
    assert post(second.url, body, headers)[0] == 401
    assert post(first.url, body, headers)[0] == 401
    assert "refused a replayed request" in second.output()
    wait_until(lambda: settled(database_url, ROUNDS), 30, "the acknowledgement delivered")
    assert event_counts(database_url, "acknowledge") == {failing(0): 1}
