"""The durable outbox: every Slack post or update is stored first, then delivered until accepted.

Callers enqueue in the same transaction as the state change it reports, so a crash never loses
one without the other. A delivery round claims messages with a lease (outbox_claims), sends them
outside any transaction (outbox_slack, which looks before reposting after a crash) and records
Slack's answer; a thread's messages go out in the order they were decided (outbox_plan).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.outbox_claims import claim, release
from bot.alerts.outbox_plan import thread_of
from bot.alerts.outbox_slack import METADATA_EVENT, PERMANENT_ERRORS, LeaseLost, send
from bot.slack.client import OUTBOX_TIMEOUT_S
from bot.storage.models import OutboxMessage

__all__ = ["METADATA_EVENT", "PERMANENT_ERRORS", "Delivered", "Outbox", "enqueue"]

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
# Renewed before each Slack call, so it need only outlast one call (the outbox client gives up
# after OUTBOX_TIMEOUT_S); short, because a restarted bot waits it out for a dead one's claims.
LEASE = timedelta(seconds=OUTBOX_TIMEOUT_S + 5)


@dataclass(frozen=True)
class Delivered:
    """What Slack said about one outbox message."""

    key: str
    state: str  # sent, pending (will retry) or dead
    ts: str | None
    error: str | None


def enqueue(
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    alert_id: int | None = None,
) -> OutboxMessage:
    """Store a message to deliver; a key seen before returns the stored message unchanged."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        idempotency_key=key,
        alert_id=alert_id,
        method=method,
        edits=payload.get("ts_of") if method == "chat.update" else None,
        thread=thread_of(key, method, payload),
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another process enqueued the same key between our look and our insert.
        found = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if found is None:
            raise
        return found
    return message


def replica_id() -> str:
    """A name for this process's outbox that no other replica (or restart) shares."""
    return f"{socket.gethostname()[:40]}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class Outbox:
    """Delivers due messages, one at a time, in the order they were enqueued."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        clock: Callable[[], datetime],
        edit_interval: timedelta = timedelta(0),
        replica: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._edit_interval = edit_interval
        self.replica = replica or replica_id()
        self._lease = lease
        # The scheduler's round and an action's "deliver now" must not send the same message;
        # other replicas are kept out by the claims in the database.
        self._delivering = threading.Lock()

    def deliver_due(self, limit: int = 50) -> list[Delivered]:
        """Try every message whose time has come; returns what happened to each."""
        with self._delivering:
            claimed = claim(self._sessions, self.replica, self._clock(), self._lease, limit)
            unused = {message_id for message_id, _ in claimed}
            results: list[Delivered] = []
            # Threads whose earlier message is still undelivered: the rest of them waits.
            stalled: set[str] = set()
            try:
                for message_id, thread in claimed:
                    if thread in stalled:
                        continue
                    unused.discard(message_id)
                    result = self._deliver(message_id)
                    if result is None or result.state == "pending":
                        stalled.add(thread)
                    if result is None:
                        continue  # our lease ran out and another replica has it now
                    results.append(result)
                    if result.state == "pending" and result.error is not None:
                        # Slack is down or rate-limiting: the rest would wait for nothing, and
                        # holding the lock that long would stall escalations behind us.
                        break
            finally:
                release(self._sessions, self.replica, unused)
            return results

    def _deliver(self, message_id: int) -> Delivered | None:
        now = self._clock()
        with self._sessions.begin() as session:
            message = session.get_one(OutboxMessage, message_id, with_for_update=True)
            if message.state != "pending" or message.claimed_by != self.replica:
                return None
            key, method = message.idempotency_key, message.method
            payload, waiting_for = _resolve_references(session, dict(message.payload))
            held: Delivered | None = None
            if waiting_for is not None:
                held = _wait_for_reference(message, waiting_for, now)
            elif message.edits is not None:
                held = self._hold_edit(session, message)
            if held is not None:
                message.claimed_by, message.lease_until = None, None  # decided without Slack
                return held
            # Counted before Slack is called: after a crash, attempts > 0 says "look first".
            message.attempts += 1
            retried = message.attempts > 1
            # The lease runs from now, not from the claim: earlier messages took their time.
            message.lease_until = now + self._lease
        try:
            answer = send(self._client, method, payload, key, retried, lambda: self._renew(key))
        except LeaseLost:
            logger.warning("outbox %s was taken over by another replica mid-delivery", key)
            return None
        return self._record(message_id, key, answer.ts, answer.error, answer.retry_after)

    def _renew(self, key: str) -> None:
        """Extend our lease on a message before another call about it; LeaseLost if not ours."""
        with self._sessions.begin() as session:
            renewed = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.idempotency_key == key,
                    OutboxMessage.state == "pending",
                    OutboxMessage.claimed_by == self.replica,
                )
                .values(lease_until=self._clock() + self._lease)
            )
            if renewed.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(key)

    def _hold_edit(self, session: Session, message: OutboxMessage) -> Delivered | None:
        """Coalesce and pace edits of one message, so a flapping host cannot flood Slack."""
        # Each edit carries the whole message, so only the newest pending one matters.
        newer = session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.edits == message.edits,
                OutboxMessage.state == "pending",
                OutboxMessage.id > message.id,
            )
        )
        if newer is not None:
            message.state = "superseded"
            return Delivered(message.idempotency_key, message.state, None, None)
        last_sent = session.scalar(
            select(OutboxMessage.sent_at)
            .where(
                OutboxMessage.state == "sent",
                (OutboxMessage.edits == message.edits)
                | (OutboxMessage.idempotency_key == message.edits),
            )
            .order_by(OutboxMessage.sent_at.desc())
            .limit(1)
        )
        now = self._clock()
        if last_sent is not None and now - last_sent < self._edit_interval:
            message.next_attempt_at = last_sent + self._edit_interval
            return Delivered(message.idempotency_key, message.state, None, None)
        return None

    def _record(
        self,
        message_id: int,
        key: str,
        ts: str | None,
        error: str | None,
        retry_after: float | None,
    ) -> Delivered:
        now = self._clock()
        with self._sessions.begin() as session:
            message = session.get_one(OutboxMessage, message_id, with_for_update=True)
            context = {"alert_id": message.alert_id}
            if message.state != "pending":
                # Our lease ran out mid-call and another replica finished it (having looked
                # for our post first): its record stands.
                return Delivered(key, message.state, message.result_ts, message.last_error)
            if error is not None and message.claimed_by != self.replica:
                return Delivered(key, "pending", None, error)  # the new holder retries it
            message.claimed_by, message.lease_until = None, None
            if error is None:
                message.state, message.result_ts, message.sent_at = "sent", ts, now
                message.last_error = None
                logger.info("delivered %s (%s)", key, message.method, extra=context)
            elif error in PERMANENT_ERRORS:
                message.state, message.last_error = "dead", error
                logger.error(
                    "Slack refused outbox message %s for good: %s", key, error, extra=context
                )
            else:
                backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(message.attempts, 10)))
                if retry_after is not None:
                    backoff = max(backoff, timedelta(seconds=retry_after))
                message.next_attempt_at = now + backoff
                message.last_error = error
                logger.warning(
                    "outbox %s not delivered (%s); retrying in %s",
                    key,
                    error,
                    backoff,
                    extra=context,
                )
            return Delivered(key, message.state, message.result_ts, message.last_error)


# An update or a thread reply names the post it belongs to by that post's key, because the
# post's ts is only known once Slack has accepted it: {"ts_of": key} or {"thread_ts_of": key}.
REFERENCES = {"ts_of": "ts", "thread_ts_of": "thread_ts"}
REFERENCE_POLL = timedelta(seconds=5)


def _resolve_references(
    session: Session, payload: dict[str, Any]
) -> tuple[dict[str, Any], OutboxMessage | str | None]:
    """The payload with referenced ts filled in; else the post it waits for (or its missing key)."""
    for field, target in REFERENCES.items():
        key = payload.pop(field, None)
        if key is None:
            continue
        post = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if post is None:
            return payload, str(key)
        if post.result_ts is None:
            return payload, post
        payload[target] = post.result_ts
    return payload, None


def _wait_for_reference(
    message: OutboxMessage, post: OutboxMessage | str, now: datetime
) -> Delivered:
    if isinstance(post, str) or post.state == "dead":
        key = post if isinstance(post, str) else post.idempotency_key
        message.state = "dead"
        message.last_error = f"the message it refers to ({key}) was never posted"
    else:
        message.next_attempt_at = now + REFERENCE_POLL
    return Delivered(message.idempotency_key, message.state, None, message.last_error)
