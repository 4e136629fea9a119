"""The outbox: nothing for Slack is lost or doubled by outages, rate limits or a kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.alerts.outbox import METADATA_EVENT, Outbox, enqueue
from bot.slack.client import single_try_client
from bot.storage.database import open_database
from bot.storage.models import OutboxMessage
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

START = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _post(channel: str = "C-alerts", text: str = "fs01: D: needs 85 MB") -> dict[str, object]:
    return {"channel": channel, "text": text}


@pytest.fixture
def clock() -> Clock:
    """Starts at START."""
    return Clock()


@pytest.fixture
def outbox(database_url: str, stand_in: SlackStandIn, clock: Clock) -> Outbox:
    """An outbox on each database, delivering to the loopback Slack."""
    return _outbox(database_url, stand_in, clock)


def _enqueue_post(database_url: str, key: str = "alert-1/post") -> None:
    with open_database(database_url).begin() as session:
        enqueue(session, key, "chat.postMessage", _post(), START)


def _outbox(database_url: str, stand_in: SlackStandIn, clock: Clock) -> Outbox:
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)  # no retry handlers: ours
    return Outbox(open_database(database_url), client, clock)


def _channel_messages(stand_in: SlackStandIn, channel: str = "C-alerts") -> list[dict[str, Any]]:
    return [m for (c, _), m in stand_in.messages.items() if c == channel]


def test_enqueueing_the_same_key_twice_stores_it_once(database_url: str) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        enqueue(session, "alert-1/post", "chat.postMessage", _post(), START)
        enqueue(session, "alert-1/post", "chat.postMessage", _post(text="changed"), START)
    with sessions() as session:
        (stored,) = session.scalars(select(OutboxMessage)).all()
        assert stored.payload["text"] == "fs01: D: needs 85 MB"


def test_a_post_is_delivered_with_its_key_in_the_metadata(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    _enqueue_post(database_url, "alert-1/post")
    (delivered,) = outbox.deliver_due()
    assert (delivered.state, delivered.error) == ("sent", None)
    (message,) = _channel_messages(stand_in)
    assert message["ts"] == delivered.ts
    assert message["metadata"] == {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": "alert-1/post"},
    }
    assert outbox.deliver_due() == []


def test_an_outage_delays_the_post_but_it_arrives_once(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    _enqueue_post(database_url, "alert-1/post")
    stand_in.queue_response("chat.postMessage", status=503, times=2)
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "30"})
    states = []
    for _ in range(8):
        states += [d.state for d in outbox.deliver_due()]
        clock.now += timedelta(seconds=31)
    assert states == ["pending", "pending", "pending", "sent"]
    assert len(_channel_messages(stand_in)) == 1


def test_retry_after_is_respected(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    _enqueue_post(database_url, "k")
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "30"})
    (first,) = outbox.deliver_due()
    assert (first.state, first.error) == ("pending", "ratelimited")
    clock.now += timedelta(seconds=29)
    assert outbox.deliver_due() == []
    clock.now += timedelta(seconds=2)
    assert [d.state for d in outbox.deliver_due()] == ["sent"]


def test_a_permanent_error_stops_the_retries(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    _enqueue_post(database_url, "k")
    stand_in.queue_response("chat.postMessage", body={"ok": False, "error": "channel_not_found"})
    (delivered,) = outbox.deliver_due()
    assert (delivered.state, delivered.error) == ("dead", "channel_not_found")
    clock.now += timedelta(hours=1)
    assert outbox.deliver_due() == []


def test_an_update_goes_to_the_posted_message(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        enqueue(session, "post", "chat.postMessage", _post(), START)
    (posted,) = outbox.deliver_due()
    with sessions.begin() as session:
        payload = {"channel": "C-alerts", "ts": posted.ts, "text": "fs01: resolved"}
        enqueue(session, "update", "chat.update", payload, START)
    (updated,) = outbox.deliver_due()
    assert (updated.state, updated.ts) == ("sent", posted.ts)
    (message,) = _channel_messages(stand_in)
    assert message["text"] == "fs01: resolved"


KILLED_WHILE_POSTING = """
import sys
from datetime import UTC, datetime
import pytest
from slack_sdk import WebClient
from bot.alerts.outbox import Outbox, enqueue
from bot.storage.database import open_database
url, api = sys.argv[1], sys.argv[2]
now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
sessions = open_database(url)
with sessions.begin() as session:
    enqueue(session, "alert-7/post", "chat.postMessage", {"channel": "C-alerts", "text": "x"}, now)
print("posting", flush=True)
Outbox(sessions, WebClient(token="xoxb-test", base_url=api), lambda: now).deliver_due()
"""


def test_killed_while_posting_then_restarted_leaves_exactly_one_message(
    database_url: str, stand_in: SlackStandIn
) -> None:
    # Slack accepts the post but holds the answer; the poster is killed before it hears back.
    stand_in.queue_response("chat.postMessage", hold=3)
    poster = subprocess.Popen(
        [sys.executable, "-c", KILLED_WHILE_POSTING, database_url, stand_in.api_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    assert poster.stdout is not None
    assert poster.stdout.readline().strip() == "posting"
    stand_in.wait_for("chat.postMessage", timeout=20)
    poster.send_signal(signal.SIGKILL)
    poster.wait(timeout=10)
    assert len(_channel_messages(stand_in)) == 1

    clock = Clock()
    clock.now = START + timedelta(minutes=5)
    (delivered,) = _outbox(database_url, stand_in, clock).deliver_due()
    assert delivered.state == "sent"
    (message,) = _channel_messages(stand_in)
    assert delivered.ts == message["ts"]
    assert len(stand_in.calls("chat.postMessage")) == 1


def test_replies_and_updates_wait_for_the_post_they_belong_to(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    sessions = open_database(database_url)
    stand_in.queue_response("chat.postMessage", status=503)
    with sessions.begin() as session:
        enqueue(session, "alert-1/post", "chat.postMessage", _post(), START)
        reply = {"channel": "C-alerts", "thread_ts_of": "alert-1/post", "text": "details"}
        enqueue(session, "alert-1/details", "chat.postMessage", reply, START)
        update = {"channel": "C-alerts", "ts_of": "alert-1/post", "text": "fs01: acknowledged"}
        enqueue(session, "alert-1/update-1", "chat.update", update, START)
    first = outbox.deliver_due()
    # Slack is down: the round ends there instead of trying the rest for nothing.
    assert [(d.key, d.state) for d in first] == [("alert-1/post", "pending")]
    assert len(stand_in.calls("chat.postMessage")) == 1
    clock.now += timedelta(minutes=1)
    second = outbox.deliver_due()
    assert [d.state for d in second] == ["sent", "sent", "sent"]
    post_ts = second[0].ts
    messages = {m["ts"]: m for (c, _), m in stand_in.messages.items() if c == "C-alerts"}
    assert messages[post_ts]["text"] == "fs01: acknowledged"
    (details,) = [m for m in messages.values() if m.get("thread_ts") == post_ts]
    assert details["text"] == "details"


def test_a_reference_to_a_post_that_never_happened_is_dead(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    with open_database(database_url).begin() as session:
        update = {"channel": "C-alerts", "ts_of": "no-such-post", "text": "x"}
        enqueue(session, "orphan", "chat.update", update, START)
    (delivered,) = outbox.deliver_due()
    assert delivered.state == "dead"
    assert delivered.error == "the message it refers to (no-such-post) was never posted"
    assert stand_in.calls("chat.update") == []


def test_edits_of_one_message_are_coalesced_and_paced(
    database_url: str, stand_in: SlackStandIn, clock: Clock
) -> None:
    sessions = open_database(database_url)
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    outbox = Outbox(sessions, client, clock, edit_interval=timedelta(seconds=5))
    with sessions.begin() as session:
        enqueue(session, "alert-1/post", "chat.postMessage", _post(text="v0"), START)
    outbox.deliver_due()
    # A flapping host: three edits of the same message within a second.
    with sessions.begin() as session:
        for n in (1, 2, 3):
            payload = {"channel": "C-alerts", "text": f"v{n}", "ts_of": "alert-1/post"}
            enqueue(session, f"alert-1/edit-{n}", "chat.update", payload, START)
    clock.now = START + timedelta(seconds=1)
    states = [d.state for d in outbox.deliver_due()]
    assert states == ["superseded", "superseded", "pending"]  # only the newest may go, later
    assert stand_in.calls("chat.update") == []
    clock.now = START + timedelta(seconds=5)
    assert [d.state for d in outbox.deliver_due()] == ["sent"]
    assert len(stand_in.calls("chat.update")) == 1
    (message,) = _channel_messages(stand_in)
    assert message["text"] == "v3"
    # The next edit waits its turn too.
    with sessions.begin() as session:
        payload = {"channel": "C-alerts", "text": "v4", "ts_of": "alert-1/post"}
        enqueue(session, "alert-1/edit-4", "chat.update", payload, clock.now)
    clock.now = START + timedelta(seconds=7)
    assert [d.state for d in outbox.deliver_due()] == ["pending"]
    clock.now = START + timedelta(seconds=10)
    assert [d.state for d in outbox.deliver_due()] == ["sent"]
    assert _channel_messages(stand_in)[0]["text"] == "v4"


def test_a_thread_reply_sent_before_a_crash_is_found_in_its_thread_not_posted_again(
    database_url: str, stand_in: SlackStandIn, clock: Clock
) -> None:
    sessions = open_database(database_url)
    # The bot's own outbox client: no retries of its own, and (here, shorter) a timeout.
    outbox = Outbox(sessions, single_try_client(BOT_TOKEN, stand_in.api_url, timeout=1), clock)
    with sessions.begin() as session:
        enqueue(session, "alert-1/post", "chat.postMessage", _post(), START)
    outbox.deliver_due()
    with sessions.begin() as session:
        reply = {"channel": "C-alerts", "thread_ts_of": "alert-1/post", "text": "details"}
        enqueue(session, "alert-1/details", "chat.postMessage", reply, START)
    # Slack takes the reply, but the answer comes too late (as after a crash right then).
    stand_in.queue_response("chat.postMessage", hold=3)
    assert [d.state for d in outbox.deliver_due()] == ["pending"]
    clock.now += timedelta(minutes=1)
    assert [d.state for d in outbox.deliver_due()] == ["sent"]
    replies = [m for m in _channel_messages(stand_in) if m.get("thread_ts")]
    assert [m["text"] for m in replies] == ["details"]
    assert len(stand_in.calls("conversations.replies")) == 1


def test_when_slack_will_not_let_us_look_the_message_is_posted_rather_than_lost(
    database_url: str, stand_in: SlackStandIn, outbox: Outbox, clock: Clock
) -> None:
    _enqueue_post(database_url)
    stand_in.queue_response("chat.postMessage", status=503)
    outbox.deliver_due()
    stand_in.queue_response("conversations.history", body={"ok": False, "error": "missing_scope"})
    clock.now += timedelta(minutes=1)
    assert [d.state for d in outbox.deliver_due()] == ["sent"]
    assert len(_channel_messages(stand_in)) == 1
