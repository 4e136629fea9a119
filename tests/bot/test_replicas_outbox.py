"""Outbox delivery across replicas: each message once, a thread's messages in decided order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.outbox import LEASE, METADATA_EVENT, Delivered, Outbox, enqueue
from bot.alerts.outbox_claims import claim
from bot.storage.database import open_database
from bot.storage.models import OutboxMessage
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
CHANNEL = "C-alerts"


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _outbox(
    sessions: sessionmaker[Session], stand_in: SlackStandIn, clock: Clock, **kw: Any
) -> Outbox:
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)  # no retry handlers: ours
    return Outbox(sessions, client, clock, **kw)


def _enqueue_alert(session: Session, alert: int, replies: int, update: bool = False) -> None:
    post = f"alert-{alert}/post"
    enqueue(session, post, "chat.postMessage", {"channel": CHANNEL, "text": f"a{alert}"}, START)
    for n in range(replies):
        reply = {"channel": CHANNEL, "thread_ts_of": post, "text": f"a{alert} r{n}"}
        enqueue(session, f"alert-{alert}/reply-{n}", "chat.postMessage", reply, START)
    if update:
        edit = {"channel": CHANNEL, "ts_of": post, "text": f"a{alert} resolved"}
        enqueue(session, f"alert-{alert}/update", "chat.update", edit, START)


def _thread(stand_in: SlackStandIn, post_ts: str) -> list[str]:
    """The texts of a thread's replies, in the order Slack received them."""
    replies = [m for (_, ts), m in stand_in.messages.items() if m.get("thread_ts") == post_ts]
    return [m["text"] for m in sorted(replies, key=lambda m: float(m["ts"]))]


def _pending(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count()).where(OutboxMessage.state == "pending")
        return int(session.scalar(query) or 0)


def test_a_429_storm_during_a_threads_replies_keeps_them_in_decided_order(
    database_url: str, stand_in: SlackStandIn
) -> None:
    sessions, clock = open_database(database_url), Clock()
    outbox = _outbox(sessions, stand_in, clock)
    with sessions.begin() as session:
        _enqueue_alert(session, 1, replies=0)
    (post,) = outbox.deliver_due()
    with sessions.begin() as session:
        for n in range(4):
            reply = {"channel": CHANNEL, "thread_ts_of": "alert-1/post", "text": f"r{n}"}
            enqueue(session, f"alert-1/reply-{n}", "chat.postMessage", reply, START)
            if n == 1:  # another alert, decided in the middle of the first one's replies
                _enqueue_alert(session, 2, replies=0)
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "10"}, times=3)
    rounds: list[list[Delivered]] = []
    while _pending(sessions) and len(rounds) < 40:
        rounds.append(outbox.deliver_due())
        clock.now += timedelta(seconds=3)
    assert _thread(stand_in, str(post.ts)) == ["r0", "r1", "r2", "r3"]
    sent = [d.key for r in rounds for d in r if d.state == "sent"]
    # The other alert went out while the thread still waited for its Retry-After.
    assert sent == ["alert-2/post"] + [f"alert-1/reply-{n}" for n in range(4)]
    assert len(stand_in.calls("chat.postMessage")) == 1 + 5 + 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_replicas_delivering_at_once_post_every_message_once_and_in_order(
    database_url: str, stand_in: SlackStandIn
) -> None:
    alerts, replies = 12, 3
    with open_database(database_url).begin() as session:
        for alert in range(alerts):
            _enqueue_alert(session, alert, replies, update=True)
    clock = Clock()
    # Each replica has its own engine and pool, as two processes would.
    replicas = {
        name: _outbox(open_database(database_url), stand_in, clock, replica=name)
        for name in ("a", "b")
    }
    sent: dict[str, list[str]] = {"a": [], "b": []}
    failures: list[BaseException] = []
    sessions = open_database(database_url)

    def deliver(name: str) -> None:
        deadline = time.monotonic() + 60
        idle = threading.Event()
        try:
            while _pending(sessions) and time.monotonic() < deadline:
                delivered = replicas[name].deliver_due(limit=4)
                sent[name] += [d.key for d in delivered if d.state == "sent"]
                if not delivered:
                    idle.wait(0.01)  # the other replica holds what is left
        except BaseException as failure:  # handed to the test's thread, which fails on it
            failures.append(failure)
            raise

    # a's first post hangs at Slack, so b surely runs while a holds its claims.
    stand_in.queue_response("chat.postMessage", hold=0.5)
    first = threading.Thread(target=deliver, args=("a",))
    first.start()
    stand_in.wait_for("chat.postMessage", timeout=20)
    second = threading.Thread(target=deliver, args=("b",))
    second.start()
    first.join(timeout=90)
    second.join(timeout=90)
    assert not failures
    assert _pending(sessions) == 0
    assert sent["a"], "replica a delivered nothing"
    assert sent["b"], "replica b delivered nothing"
    assert sorted(sent["a"] + sent["b"]) == sorted(
        {f"alert-{a}/{k}" for a in range(alerts) for k in ("post", "update")}
        | {f"alert-{a}/reply-{n}" for a in range(alerts) for n in range(replies)}
    )
    posts = stand_in.calls("chat.postMessage")
    assert len(posts) == alerts * (1 + replies)
    keys = [m["metadata"]["event_payload"]["key"] for m in stand_in.messages.values()]
    assert len(keys) == len(set(keys)) == alerts * (1 + replies)
    for (_, ts), message in stand_in.messages.items():
        if "thread_ts" not in message:
            alert = message["metadata"]["event_payload"]["key"].split("/")[0].removeprefix("alert-")
            assert message["text"] == f"a{alert} resolved"
            assert _thread(stand_in, ts) == [f"a{alert} r{n}" for n in range(replies)]


def test_a_claim_of_a_replica_that_died_is_taken_over_after_its_lease_once(
    database_url: str, stand_in: SlackStandIn
) -> None:
    sessions, clock = open_database(database_url), Clock()
    with sessions.begin() as session:
        _enqueue_alert(session, 1, replies=2)
    lease = timedelta(seconds=60)
    # Replica a claims the thread and dies before it says a word to Slack.
    assert len(claim(sessions, "a", START, lease, 50)) == 3
    survivor = _outbox(open_database(database_url), stand_in, clock, replica="b", lease=lease)
    assert survivor.deliver_due() == []
    clock.now = START + lease - timedelta(seconds=1)
    assert survivor.deliver_due() == []
    assert stand_in.calls("chat.postMessage") == []
    clock.now = START + lease
    assert [(d.key, d.state) for d in survivor.deliver_due()] == [
        ("alert-1/post", "sent"),
        ("alert-1/reply-0", "sent"),
        ("alert-1/reply-1", "sent"),
    ]
    assert survivor.deliver_due() == []
    assert len(stand_in.calls("chat.postMessage")) == 3


KILLED_AFTER_POSTING = """
import sys
from datetime import UTC, datetime
from slack_sdk import WebClient
from bot.alerts.outbox import Outbox
from bot.storage.database import open_database
url, api = sys.argv[1], sys.argv[2]
now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
print("posting", flush=True)
client = WebClient(token="xoxb-test", base_url=api)
Outbox(open_database(url), client, lambda: now, replica="a").deliver_due()
"""


def test_a_post_made_just_before_a_replica_died_is_found_not_posted_again(
    database_url: str, stand_in: SlackStandIn
) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        _enqueue_alert(session, 1, replies=1)
    # Slack accepts the post but holds the answer; replica a is killed before it hears back.
    stand_in.queue_response("chat.postMessage", hold=2)
    poster = subprocess.Popen(
        [sys.executable, "-c", KILLED_AFTER_POSTING, database_url, stand_in.api_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    assert poster.stdout is not None
    assert poster.stdout.readline().strip() == "posting"
    stand_in.wait_for("chat.postMessage", timeout=20)
    poster.send_signal(signal.SIGKILL)
    poster.wait(timeout=10)

    clock = Clock()
    survivor = _outbox(sessions, stand_in, clock, replica="b")
    clock.now = START + LEASE - timedelta(seconds=1)
    assert survivor.deliver_due() == []
    clock.now = START + LEASE
    delivered = survivor.deliver_due()
    assert [d.state for d in delivered] == ["sent", "sent"]
    assert len(stand_in.calls("conversations.history")) == 1
    assert len(stand_in.calls("chat.postMessage")) == 2  # the one before the crash, the reply
    (post,) = [m for m in stand_in.messages.values() if "thread_ts" not in m]
    assert post["ts"] == delivered[0].ts
    assert post["metadata"] == {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": "alert-1/post"},
    }
    assert _thread(stand_in, post["ts"]) == ["a1 r0"]
