"""The Slack Web API client: a configurable base URL, and retries for 429s, 5xx and drops."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack.retries import RETRY_HANDLERS

DEFAULT_API_URL = "https://slack.com/api/"
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
