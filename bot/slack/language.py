"""The language to answer a Slack user in: their Slack locale when allowed, else the default.

The first command of each user asks Slack for their locale while Slack waits for the ack, so the
lookup is tried once, briefly: when Slack is slow or down, the user is answered in the default
language and asked about again after a while, never made to wait or shown an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.client import lasting_refusal
from checks.i18n import LANGUAGES, Lang

logger = logging.getLogger(__name__)
# After a lookup failed for want of Slack, that user's commands use the default this long.
RETRY_AFTER_S = 600.0


class LanguagePicker:
    """Caches each user's language; a failed lookup falls back to the configured default.
    `client` should try each call once, within client.ACK_PATH_TIMEOUT_S."""

    def __init__(
        self,
        default: Lang,
        use_user_locale: bool,
        client: WebClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self._enabled = use_user_locale
        self._client = client
        self._clock = clock
        self._cache: dict[str, Lang] = {}
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def for_user(self, user_id: str) -> Lang:
        """The user's language (e.g. Slack locale ja-JP gives ja)."""
        if not self._enabled:
            return self.default
        with self._lock:
            if user_id in self._cache:
                return self._cache[user_id]
            failed_at = self._failed_at.get(user_id)
            if failed_at is not None and self._clock() - failed_at < RETRY_AFTER_S:
                return self.default
        lang = self._look_up(user_id)
        with self._lock:
            if lang is None:
                self._failed_at[user_id] = self._clock()
                return self.default
            self._failed_at.pop(user_id, None)
            self._cache[user_id] = lang
        return lang

    def _look_up(self, user_id: str) -> Lang | None:
        """The user's language from Slack; None when Slack could not say this time."""
        try:
            user = self._client.users_info(user=user_id, include_locale=True).get("user") or {}
        except SlackApiError as error:
            reason = lasting_refusal(error)
            if reason is None:
                _unanswered(user_id, f"HTTP {error.response.status_code}")
                return None
            logger.info("no locale for %s: %s", user_id, reason)
            return self.default
        except (SlackClientError, OSError, ValueError) as error:
            _unanswered(user_id, type(error).__name__)
            return None
        prefix = str(user.get("locale") or "").split("-")[0].lower()
        return next((known for known in LANGUAGES if known == prefix), self.default)


def _unanswered(user_id: str, why: str) -> None:
    logger.warning(
        "Slack did not say which language %s uses (%s); answering in the default for %d minutes",
        user_id,
        why,
        RETRY_AFTER_S // 60,
    )
