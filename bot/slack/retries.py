"""The retries of Slack calls made in the bot's threads: dropped connections, 5xx, and 429s
whose Retry-After is short enough to wait out in a check worker or a listener."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# slack_sdk sleeps whatever Retry-After says, in the calling thread. Beyond this the call gives
# up at once and its caller says so (the outbox, which retries from the database, never waits).
MAX_RETRY_AFTER_S = 30.0


class BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, except that it never waits longer than MAX_RETRY_AFTER_S."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        limited = super()._can_retry(state=state, request=request, response=response, error=error)
        return limited and response is not None and retry_after_s(response) <= MAX_RETRY_AFTER_S


def retry_after_s(response: HttpResponse) -> float:
    """The wait a 429 asks for: 1 s without the header (as slack_sdk assumes), infinite when
    the header is not a whole number of seconds."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = (values[0] if values else "").strip()
            return float(value) if value.isdigit() else float("inf")
    return 1.0


# The handlers keep no state of their own (each request's RetryState does): shared by every
# client.
RETRY_HANDLERS: tuple[RetryHandler, ...] = (
    ConnectionErrorRetryHandler(max_retry_count=2),
    BoundedRateLimitRetry(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
)
