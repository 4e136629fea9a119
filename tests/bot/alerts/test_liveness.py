"""Heartbeats in the database (both kinds), the dead man's switch against a local monitor, and
the notice the first replica up posts for a check nobody ran while all were down."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.heartbeat_url import HeartbeatUrl
from bot.alerts.heartbeats import HeartbeatStore
from bot.alerts.outbox import enqueue
from bot.alerts.replicas import Heartbeat, Held, Outage
from bot.alerts.wiring import Alerting, build_alerting
from bot.slack.client import web_client
from bot.storage.database import open_database
from bot.storage.models import ScheduledRun
from checks.collect.winrm import winrm_collect
from tests.bot.conftest import EVENING, Clock, alert_config
from tests.conftest import ENVIRON
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(60)
T0 = EVENING
TOKEN = "0b2f6c3e-1a2b-4c5d-8e9f-0123456789ab"  # noqa: S105 - a healthchecks.io-like ping token


class Monitor:
    """A local stand-in for healthchecks.io: counts pings; answers `status`, or holds each
    answer until `release` is set."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.status = 200
        self.release = threading.Event()
        self.release.set()
        self.called = threading.Event()
        monitor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                monitor.paths.append(self.path)
                monitor.called.set()
                monitor.release.wait(10)
                self.send_response(monitor.status)
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ping/{TOKEN}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    with Monitor() as running:
        yield running


def dead_url() -> str:
    """A loopback port nobody listens on: the call is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/ping/{TOKEN}"


def build(
    stand_in: SlackStandIn, fleet: SimulatedFleet, url: str, clock: Clock, **alerts: object
) -> Alerting:
    config = alert_config(fleet, **alerts)
    return build_alerting(
        config,
        open_database(url),
        web_client(BOT_TOKEN, stand_in.api_url),
        winrm_collect(config, ENVIRON),
        clock,
    )


# --- the store, on both databases ---------------------------------------------------------------


def test_status_shows_each_replica_and_what_it_holds(database_url: str) -> None:
    sessions: sessionmaker[Session] = open_database(database_url)
    store = HeartbeatStore(sessions)
    store.beat(Heartbeat("host-a/10/aa", "host-a", 10, T0, T0))
    store.beat(Heartbeat("host-b/11/bb", "host-b", 11, T0, T0 + timedelta(minutes=1)))
    store.beat(Heartbeat("host-a/10/aa", "host-a", 10, T0, T0 + timedelta(minutes=2)))
    window = T0 + timedelta(hours=2)
    until = T0 + timedelta(minutes=5)
    with sessions.begin() as session:
        session.add(
            ScheduledRun(
                server="fs01",
                window_at=window,
                kind="check",
                due_at=T0,
                state="running",
                started_at=T0,
                owner="host-a/10/aa",
                lease_until=until,
            )
        )
        message = enqueue(session, "k1", "chat.postMessage", {"channel": "C1", "text": "x"}, T0)
        message.claimed_by, message.lease_until = "host-b/11/bb", until
    status = store.status(T0 + timedelta(minutes=3))
    assert [(b.replica, b.seen_at) for b in status.beats] == [
        ("host-a/10/aa", T0 + timedelta(minutes=2)),
        ("host-b/11/bb", T0 + timedelta(minutes=1)),
    ]
    assert status.held == {"host-a/10/aa": [Held("fs01", "check", window, until)]}
    assert status.sending == {"host-b/11/bb": 1}
    # Past the leases, nobody holds anything.
    later = store.status(until + timedelta(seconds=1))
    assert later.held == {}
    assert later.sending == {}


def test_a_stop_is_recorded_and_old_replicas_are_pruned(database_url: str) -> None:
    store = HeartbeatStore(open_database(database_url))
    store.beat(Heartbeat("old", "h", 1, T0, T0))
    store.beat(Heartbeat("new", "h", 2, T0, T0 + timedelta(days=8)))
    store.stopped("new", T0 + timedelta(days=8, minutes=1))
    assert store.prune(T0 + timedelta(days=1)) == 1
    (beat,) = store.beats()
    assert (beat.replica, beat.stopped_at) == ("new", T0 + timedelta(days=8, minutes=1))
    # Beating again (the same id after a pause) clears the stop.
    store.beat(Heartbeat("new", "h", 2, T0, T0 + timedelta(days=9)))
    assert store.beats()[0].stopped_at is None


# --- the dead man's switch ----------------------------------------------------------------------


def test_each_successful_round_calls_the_heartbeat_url(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, monitor: Monitor
) -> None:
    alerting = build(stand_in, evening_fleet, database_url, Clock(T0), heartbeat_url=monitor.url)
    assert alerting.scheduler.liveness is not None
    assert alerting.scheduler.liveness.url is not None
    url = alerting.scheduler.liveness.url
    alerting.scheduler.start(paused=True)  # start-up's round
    try:
        assert url.wait(10)
        alerting.scheduler.round()
        assert url.wait(10)
    finally:
        alerting.scheduler.stop(wait=True)
    assert monitor.paths == [f"/ping/{TOKEN}"] * 2


def test_a_slow_monitor_never_holds_up_the_scheduler(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, monitor: Monitor
) -> None:
    monitor.release.clear()  # the monitor takes the call and does not answer
    alerting = build(stand_in, evening_fleet, database_url, Clock(T0), heartbeat_url=monitor.url)
    liveness = alerting.scheduler.liveness
    assert liveness is not None
    assert liveness.url is not None
    alerting.scheduler.start(paused=True)
    try:
        assert monitor.called.wait(10)
        alerting.scheduler.round()  # returns although the first call still waits
        alerting.scheduler.round()
        assert not liveness.url.wait(0)  # still the one call: rounds do not pile calls up
        monitor.release.set()
        assert liveness.url.wait(10)
    finally:
        alerting.scheduler.stop(wait=True)
    assert len(monitor.paths) == 1


def test_a_dead_url_is_logged_once_and_the_scheduler_goes_on(
    stand_in: SlackStandIn,
    evening_fleet: SimulatedFleet,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = dead_url()
    alerting = build(stand_in, evening_fleet, database_url, Clock(T0), heartbeat_url=url)
    liveness = alerting.scheduler.liveness
    assert liveness is not None
    assert liveness.url is not None
    with caplog.at_level(logging.INFO, logger="bot.alerts.heartbeat_url"):
        alerting.scheduler.start(paused=True)
        try:
            for _ in range(3):
                assert liveness.url.wait(10)
                alerting.scheduler.round()
            assert liveness.url.wait(10)
            assert alerting.scheduler.running
            assert "check:fs01:" in " ".join(
                j.id for j in alerting.scheduler.apscheduler.get_jobs()
            )
        finally:
            alerting.scheduler.stop(wait=True)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "heartbeat_url call failed" in warnings[0].getMessage()
    assert TOKEN not in caplog.text


def test_a_monitor_that_answers_again_is_logged_as_such(
    monitor: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    url = HeartbeatUrl(monitor.url, timeout=5)
    monitor.status = 500
    with caplog.at_level(logging.INFO, logger="bot.alerts.heartbeat_url"):
        for status in (500, 500, 200, 200):
            monitor.status = status
            url.ping()
            assert url.wait(10)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "(HTTP 500)" in messages[0]
    assert messages[1] == "the heartbeat_url answers again"
    assert len(monitor.paths) == 4


# --- the missed-check notice --------------------------------------------------------------------


def test_after_all_replicas_were_down_across_a_check_the_next_one_up_says_so(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    clock = Clock(T0)  # 19:00 in Tokyo; fs01's check is at 20:00, its backup at 21:00
    first = build(stand_in, evening_fleet, database_url, clock)
    first.scheduler.start(paused=True)
    first.scheduler.stop(wait=True)  # and nothing runs until 21:30
    clock.set(21, 30)
    second = build(stand_in, evening_fleet, database_url, clock)
    second.scheduler.start(paused=True)
    try:
        second.outbox.deliver_due()
        # A third replica that came up on the same outage enqueues under the same key.
        third = build(stand_in, evening_fleet, database_url, clock)
        assert third.scheduler.liveness is not None
        assert len(third.scheduler.liveness.announce(Outage(T0, clock()))) == 1
        third.outbox.deliver_due()
    finally:
        second.scheduler.stop(wait=True)
    notices = [m["text"] for m in stand_in.messages.values() if "was missed" in m["text"]]
    assert notices == [
        "*fs01*'s check before the Nov 24, 2026, 9:00:00\u202fPM JST backup was missed: the bot "
        "was down from Nov 24, 2026, 7:00:00\u202fPM JST to Nov 24, 2026, 9:30:00\u202fPM JST."
    ]


def test_a_replica_that_starts_while_another_is_alive_posts_nothing(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    clock = Clock(T0)
    first = build(stand_in, evening_fleet, database_url, clock)
    first.scheduler.start(paused=True)
    try:
        clock.now = T0 + timedelta(seconds=20)
        second = build(stand_in, evening_fleet, database_url, clock)
        second.scheduler.start(paused=True)
        second.scheduler.stop(wait=True)
        second.outbox.deliver_due()
    finally:
        first.scheduler.stop(wait=True)
    assert not [m for m in stand_in.messages.values() if "was missed" in m["text"]]
