"""The language to answer a Slack user in: their Slack locale when allowed, else the default."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from checks.i18n import LANGUAGES, Lang

logger = logging.getLogger(__name__)


class LanguagePicker:
    """Caches each user's language; a failed lookup falls back to the configured default."""

    def __init__(self, default: Lang, use_user_locale: bool, client: WebClient) -> None:
        self.default = default
        self._enabled = use_user_locale
        self._client = client
        self._cache: dict[str, Lang] = {}
        self._lock = threading.Lock()

    def for_user(self, user_id: str) -> Lang:
        """The user's language (e.g. Slack locale ja-JP gives ja)."""
        if not self._enabled:
            return self.default
        with self._lock:
            if user_id in self._cache:
                return self._cache[user_id]
        lang = self.default
        try:
            user = self._client.users_info(user=user_id, include_locale=True).get("user") or {}
            prefix = str(user.get("locale") or "").split("-")[0].lower()
            lang = next((known for known in LANGUAGES if known == prefix), self.default)
        except SlackApiError as error:
            logger.info("no locale for %s: %s", user_id, error.response["error"])
        with self._lock:
            self._cache[user_id] = lang
        return lang
