"""One outbox message onto Slack: the call, its answer in one shape, and the look before a repost.

A post carries its idempotency key in Slack's message metadata, so after a crash between Slack
accepting it and us recording that, the retry finds the message instead of posting it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger("bot.alerts.outbox")

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
HISTORY_LOOKBACK = 200
HISTORY_PAGES = 5  # a post older than 1,000 messages back is not looked for


class LeaseLost(Exception):
    """Another replica took the message over while we were still at it; leave it to them."""


class _Calls:
    """The client, with the caller's lease renewed before every call but the first."""

    def __init__(self, client: WebClient, renew: Callable[[], None]) -> None:
        self._client, self._renew, self._first = client, renew, True

    def __call__(self, method: str, **kwargs: Any) -> Any:
        if not self._first:
            self._renew()  # a lookup makes several calls: the lease must outlast each, not all
        self._first = False
        return self._client.api_call(method, **kwargs)


@dataclass(frozen=True)
class Answer:
    """What Slack said: the message's ts, or an error and how long Slack asked us to wait."""

    ts: str | None = None
    error: str | None = None
    retry_after: float | None = None


def send(
    client: WebClient,
    method: str,
    payload: dict[str, Any],
    key: str,
    retried: bool,
    renew: Callable[[], None] = lambda: None,
) -> Answer:
    """Call Slack once for a message; a retried post is first looked for in the channel.

    ``renew`` extends the caller's lease before each further call, or raises LeaseLost."""
    call = _Calls(client, renew)
    try:
        if method == "chat.postMessage":
            ts = _look_first(call, payload, key) if retried else None
            if ts is None:
                metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
                ts = str(call(method, json={**payload, "metadata": metadata})["ts"])
            return Answer(ts=ts)
        response = call(method, json=payload)
        return Answer(ts=str(response.get("ts") or payload.get("ts") or "") or None)
    except SlackApiError as failure:
        error = str(failure.response.get("error") or f"HTTP {failure.response.status_code}")
        header = failure.response.headers.get("Retry-After") if failure.response.headers else None
        return Answer(error=error, retry_after=float(header) if header else None)
    except OSError as failure:  # connection refused, reset, timed out
        return Answer(error=f"{type(failure).__name__}: {failure}")


def _look_first(call: _Calls, payload: dict[str, Any], key: str) -> str | None:
    """_already_posted; when Slack will never let us look (a missing scope, say), posting
    again risks a duplicate but not posting would lose the message, so we post."""
    try:
        return _already_posted(call, payload, key)
    except SlackApiError as failure:
        error = str(failure.response.get("error") or "")
        if error not in PERMANENT_ERRORS:
            raise  # transient: this attempt fails and is retried, looking again
        logger.warning("cannot look for %s before posting it again (%s)", key, error)
        return None


def _already_posted(call: _Calls, payload: dict[str, Any], key: str) -> str | None:
    """The ts of this message if an earlier attempt got it into Slack, else None."""
    thread = payload.get("thread_ts")
    # Thread replies never show in conversations.history; a thread lists them.
    method, params = (
        ("conversations.replies", {"ts": thread}) if thread else ("conversations.history", {})
    )
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        answer = call(
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
