"""Two real `serve` replicas in Socket Mode on one PostgreSQL database: each opens its own
connection to Slack, Slack hands each envelope to one of them, and whichever gets a slash command
or a button press answers it, once. When one stops, the other's connection carries on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts.message import ACK_ACTION
from tests.bot.conftest import control
from tests.support.fleet import SimulatedFleet
from tests.support.replicas import (
    ALERT_CHANNEL,
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

HOSTS = 2  # failing ones: an alert each, acknowledged through one connection each

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def fleet() -> Iterator[SimulatedFleet]:
    with copied_fleet(HOSTS, 0, latency_ms=0) as running:
        yield running


def _open(stand_in: SlackStandIn) -> list[int]:
    return [session.number for session in stand_in.socket.sessions() if session.open]


def _envelopes_answered(stand_in: SlackStandIn, envelope_id: str) -> int:
    """How many times the app acknowledged one envelope, over any connection."""
    return sum(m.get("envelope_id") == envelope_id for m in stand_in.socket.received())


def test_each_replica_holds_its_own_connection_and_answers_what_it_is_given_once(
    stand_in: SlackStandIn, fleet: SimulatedFleet, database_url: str, tmp_path: Path
) -> None:
    # No coalescing of edits: an acknowledgement goes out at the next delivery round.
    config = write_config(
        tmp_path / "backupcheck.yaml", fleet, database_url, 10, 3, edit_interval_s=0
    )
    replicas = [Replica(config, stand_in, tmp_path, name) for name in ("a", "b")]
    try:
        wait_until(lambda: len(_open(stand_in)) == 2, 30, "a connection per replica")
        wait_until(lambda: settled(database_url, HOSTS), 60, "every alert posted")
        sessions = _open(stand_in)
        tops = alert_tops(stand_in)

        # A slash command over each connection: acknowledged there, answered once.
        envelopes, urls = [], []
        for number, host in zip(sessions, sorted(tops), strict=True):
            urls.append(stand_in.response_url())
            delivery = stand_in.deliver_slash_command(
                text=host, response_url=urls[-1], session=number
            )
            ack = delivery.wait_ack(3.0)
            assert (ack.session, ack.payload) == (number, {"text": f"Checking {host}…"})
            envelopes.append(delivery.envelope_id)
        for url, host in zip(urls, sorted(tops), strict=True):
            (answer,) = stand_in.wait_for_response(1, timeout=20, id=url)
            assert answer.body is not None
            assert f"{host}: CRITICAL" in str(answer.body["blocks"])

        # Acknowledge on each alert, pressed over a different connection each.
        for number, host in zip(sessions, sorted(tops), strict=True):
            top = tops[host]
            delivery = stand_in.deliver_block_action(
                ACK_ACTION,
                value=control(top, ACK_ACTION).get("value", ""),
                channel_id=ALERT_CHANNEL,
                message_ts=top["ts"],
                response_url=stand_in.response_url(),
                session=number,
            )
            assert delivery.wait_ack(3.0).session == number
            envelopes.append(delivery.envelope_id)
        wait_until(lambda: settled(database_url, HOSTS), 30, "the acknowledgements delivered")
        assert event_counts(database_url, "acknowledge") == dict.fromkeys(tops, 1)
        for host, top in tops.items():
            replies = thread_texts(stand_in, top["ts"])
            assert sum(r.startswith("Acknowledged by <@U123>") for r in replies) == 1, host

        # Each envelope answered once, each command's check reported once.
        assert [_envelopes_answered(stand_in, e) for e in envelopes] == [1] * len(envelopes)
        assert [len(stand_in.responses(url)) for url in urls] == [1] * len(urls)

        # The connections are the replicas' own: one stops, its connection goes, the other's
        # stays and answers the next command.
        assert replicas[0].stop() == 0
        wait_until(lambda: len(_open(stand_in)) == 1, 30, "one connection closed")
        url = stand_in.response_url()
        stand_in.deliver_slash_command(text=failing(0), response_url=url).wait_ack(3.0)
        stand_in.wait_for_response(1, timeout=20, id=url)
        assert replicas[1].stop() == 0
    finally:
        for replica in replicas:
            replica.ensure_gone()
    outputs = [replica.output() for replica in replicas]
    assert not any("Traceback" in output for output in outputs)
    assert all("connected to Slack in Socket Mode" in output for output in outputs)
