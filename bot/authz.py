"""Who may run checks: listed users, members of listed user groups, or anyone in listed channels."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import SlackSettings

logger = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300.0


class Authorizer:
    """Answers "may this user run a check here?" with None (yes) or the catalog key of why not."""

    def __init__(self, settings: SlackSettings, client: WebClient) -> None:
        self._users = frozenset(settings.allowed_users)
        self._groups = tuple(settings.allowed_usergroups)
        self._channels = frozenset(settings.allowed_channels)
        self._client = client
        self._members: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def open_to_everyone(self) -> bool:
        """No list is configured, so everyone in the workspace may run checks."""
        return not (self._users or self._groups or self._channels)

    def refusal(self, user_id: str, channel_id: str | None) -> str | None:
        """None when allowed, else the catalog key of the reason."""
        if self.open_to_everyone or user_id in self._users or channel_id in self._channels:
            return None
        if self._groups and user_id in self._group_members():
            return None
        return "slack.not_allowed"

    def _group_members(self) -> set[str]:
        with self._lock:
            if time.monotonic() - self._fetched_at < GROUP_CACHE_SECONDS:
                return self._members
            members: set[str] = set()
            for group in self._groups:
                try:
                    response = self._client.usergroups_users_list(usergroup=group)
                    members.update(response.get("users") or [])
                except SlackApiError as error:
                    # Fail closed: an unreadable group grants nothing.
                    logger.warning("cannot read user group %s: %s", group, error.response["error"])
            self._members, self._fetched_at = members, time.monotonic()
            return members
