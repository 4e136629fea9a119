"""The durable outbox: every Slack post or update is stored first, then delivered until accepted.

Callers enqueue in the same transaction as the state change it reports, so a crash never loses
one without the other. Delivery retries with backoff; a post is tagged with its idempotency key
in Slack's message metadata, so after a crash between Slack accepting it and us recording that,
the retry finds the message in the channel instead of posting it twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import OutboxMessage

logger = logging.getLogger(__name__)

METADATA_EVENT = "backupcheck_outbox"
# Slack's answers that no retry can fix; everything else (429, 5xx, network) is retried.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "no_text",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
        "restricted_action",
    }
)
MAX_BACKOFF = timedelta(minutes=5)
HISTORY_LOOKBACK = 200
HISTORY_PAGES = 5  # a post older than 1,000 messages back is not looked for


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


class Outbox:
    """Delivers due messages, one at a time, in the order they were enqueued."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        clock: Callable[[], datetime],
        edit_interval: timedelta = timedelta(0),
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._edit_interval = edit_interval
        # The scheduler's round and an action's "deliver now" must not send the same message.
        self._delivering = threading.Lock()

    def deliver_due(self, limit: int = 50) -> list[Delivered]:
        """Try every message whose time has come; returns what happened to each."""
        with self._delivering:
            now = self._clock()
            with self._sessions() as session:
                due = session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                ).all()
            results = []
            for message_id in due:
                results.append(self._deliver(message_id))
                if results[-1].state == "pending" and results[-1].error is not None:
                    # Slack is down or rate-limiting: the rest would wait for nothing, and
                    # holding the lock that long would stall escalations behind us.
                    break
            return results

    def _deliver(self, message_id: int) -> Delivered:
        with self._sessions.begin() as session:
            message = session.get_one(OutboxMessage, message_id)
            key, method = message.idempotency_key, message.method
            payload, waiting_for = _resolve_references(session, dict(message.payload))
            if waiting_for is not None:
                return _wait_for_reference(message, waiting_for, self._clock())
            if message.edits is not None:
                held = self._hold_edit(session, message)
                if held is not None:
                    return held
            # Counted before Slack is called: after a crash, attempts > 0 says "look first".
            message.attempts += 1
            retried = message.attempts > 1
        ts: str | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            if method == "chat.postMessage":
                ts = self._look_first(payload, key) if retried else None
                if ts is None:
                    payload["metadata"] = {
                        "event_type": METADATA_EVENT,
                        "event_payload": {"key": key},
                    }
                    ts = str(self._client.api_call(method, json=payload)["ts"])
            else:
                response = self._client.api_call(method, json=payload)
                ts = str(response.get("ts") or payload.get("ts") or "") or None
        except SlackApiError as failure:
            error = str(failure.response.get("error") or f"HTTP {failure.response.status_code}")
            header = (
                failure.response.headers.get("Retry-After") if failure.response.headers else None
            )
            retry_after = float(header) if header else None
        except OSError as failure:  # connection refused, reset, timed out
            error = f"{type(failure).__name__}: {failure}"
        return self._record(message_id, key, ts, error, retry_after)

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

    def _look_first(self, payload: dict[str, Any], key: str) -> str | None:
        """_already_posted; when Slack will never let us look (a missing scope, say), posting
        again risks a duplicate but not posting would lose the message, so we post."""
        try:
            return self._already_posted(payload, key)
        except SlackApiError as failure:
            error = str(failure.response.get("error") or "")
            if error not in PERMANENT_ERRORS:
                raise  # transient: this attempt fails and is retried, looking again
            logger.warning("cannot look for %s before posting it again (%s)", key, error)
            return None

    def _already_posted(self, payload: dict[str, Any], key: str) -> str | None:
        """The ts of this message if an earlier attempt got it into Slack, else None."""
        thread = payload.get("thread_ts")
        # Thread replies never show in conversations.history; a thread lists them.
        method, params = (
            ("conversations.replies", {"ts": thread}) if thread else ("conversations.history", {})
        )
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            answer = self._client.api_call(
                method,
                params={
                    "channel": payload["channel"],
                    "limit": HISTORY_LOOKBACK,
                    "include_all_metadata": "true",
                    **params,
                    **({"cursor": cursor} if cursor else {}),
                },
            )
            for message in answer.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and (metadata.get("event_payload") or {}).get("key") == key
                ):
                    logger.info("outbox %s was already posted before a restart", key)
                    return str(message["ts"])
            cursor = ((answer.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
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
            message = session.get_one(OutboxMessage, message_id)
            context = {"alert_id": message.alert_id}
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
