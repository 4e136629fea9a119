"""Posts to a Slack response_url, retrying rate limits and transient failures like the Web API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient

from bot.slack.retries import RETRY_HANDLERS

logger = logging.getLogger(__name__)


class Responder:
    """Answers one slash command or button press through its response_url."""

    def __init__(self, response_url: str) -> None:
        self._url = response_url
        self._client: WebhookClient | None = None

    def _webhook(self) -> WebhookClient:
        # Made on the first post, in the check pool: a client reads the proxy settings from the
        # environment, which would otherwise be the costliest step of every ack.
        if self._client is None:
            # bolt's own respond() has no retry handlers: a 429 there would lose the answer.
            self._client = WebhookClient(url=self._url, retry_handlers=list(RETRY_HANDLERS))
        return self._client

    def __call__(
        self,
        text: str,
        blocks: Sequence[Block] | None = None,
        *,
        response_type: str | None = None,
        replace_original: bool | None = None,
    ) -> bool:
        """Post; False (and a log line) when Slack refused it, e.g. an expired response_url."""
        body: dict[str, Any] = {"text": text or " "}
        if blocks is not None:
            body["blocks"] = [block.to_dict() for block in blocks]
        if response_type is not None:
            body["response_type"] = response_type
        if replace_original is not None:
            body["replace_original"] = replace_original
        response = self._webhook().send_dict(body)
        if response.status_code != 200:
            logger.warning(
                "Slack refused a response: HTTP %d %s", response.status_code, response.body[:200]
            )
            return False
        return True
