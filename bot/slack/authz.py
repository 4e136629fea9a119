"""Who may do something: listed users, members of listed user groups, or anyone in listed channels.

One Authorizer answers "may run checks" (slack.allowed_*); another "may acknowledge, escalate
and silence" (alerts.responder_*).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300.0


class Authorizer:
    """Answers "may this user do it here?" with None (yes) or the catalog key of why not."""

    def __init__(
        self,
        client: WebClient,
        users: Iterable[str] = (),
        usergroups: Iterable[str] = (),
        channels: Iterable[str] = (),
        refusal_key: str = "slack.not_allowed",
    ) -> None:
        self._users = frozenset(users)
        self._groups = tuple(usergroups)
        self._channels = frozenset(channels)
        self._refusal_key = refusal_key
        self._client = client
        self._members: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def open_to_everyone(self) -> bool:
        """No list is configured, so everyone in the workspace may."""
        return not (self._users or self._groups or self._channels)

    def refusal(self, user_id: str, channel_id: str | None) -> str | None:
        """None when allowed, else the catalog key of the reason."""
        if self.open_to_everyone or user_id in self._users or channel_id in self._channels:
            return None
        if self._groups and user_id in self._group_members():
            return None
        return self._refusal_key

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
