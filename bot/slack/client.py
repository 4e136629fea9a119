"""The Slack Web API client: a configurable base URL, and retries for 429s, 5xx and drops."""

from __future__ import annotations

import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.retries import RETRY_HANDLERS

DEFAULT_API_URL = "https://slack.com/api/"
# A call made while Slack waits for an ack (3 s) gets this long, once.
ACK_PATH_TIMEOUT_S = 1
# Slack's own error codes; slack_sdk puts a sentence there when the answer was not JSON.
_SLACK_ERROR = re.compile(r"[a-z_]{1,64}")
_PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# One attempt of the outbox waits this long at most; it retries from the database anyway.
OUTBOX_TIMEOUT_S = 10


def web_client(token: str, api_url: str | None = None) -> WebClient:
    """A WebClient that waits out short rate limits (Retry-After) and retries transient
    failures."""
    # slack_sdk retries a connection error once by default and never a 429 on its own.
    return WebClient(token=token, base_url=_base_url(api_url), retry_handlers=list(RETRY_HANDLERS))


def single_try_client(
    token: str, api_url: str | None = None, timeout: int = OUTBOX_TIMEOUT_S
) -> WebClient:
    """A WebClient that tries each call once, within `timeout`: for the outbox, which retries
    from the database (an in-process retry would sleep through a Retry-After and could repeat a
    post), and for calls made while Slack waits for an ack."""
    return WebClient(token=token, base_url=_base_url(api_url), retry_handlers=[], timeout=timeout)


def _base_url(api_url: str | None) -> str:
    base_url = api_url or DEFAULT_API_URL
    return base_url if base_url.endswith("/") else base_url + "/"


def lasting_refusal(error: SlackApiError) -> str | None:
    """Slack's error code when it refused for good (an unknown user, a missing scope); None when
    it could not answer this time (rate limited, down, or a page that was not JSON)."""
    status, reason = error.response.status_code, str(error.response.get("error"))
    if status != 200 or reason in _PASSING or not _SLACK_ERROR.fullmatch(reason):
        return None
    return reason
