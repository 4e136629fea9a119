"""Who may do something: listed users, members of listed user groups, or anyone in listed channels.

One Authorizer answers "may run checks" (slack.allowed_*); another "may acknowledge, escalate
and silence" (alerts.responder_*).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.client import lasting_refusal

logger = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300.0
# When Slack cannot list a group, it is asked again this soon; meanwhile the members it listed
# last stand, for at most MAX_STALE_SECONDS, so that a Slack outage locks nobody out at once.
RETRY_SECONDS = 30.0
MAX_STALE_SECONDS = 3600.0


class Authorizer:
    """Answers "may this user do it here?" with None (yes) or the catalog key of why not.
    Group members are read while Slack waits for an ack: `client` should try each call once,
    briefly (client.single_try_client with ACK_PATH_TIMEOUT_S)."""

    def __init__(
        self,
        client: WebClient,
        users: Iterable[str] = (),
        usergroups: Iterable[str] = (),
        channels: Iterable[str] = (),
        refusal_key: str = "slack.not_allowed",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = frozenset(users)
        self._groups = tuple(usergroups)
        self._channels = frozenset(channels)
        self._refusal_key = refusal_key
        self._client = client
        self._clock = clock
        self._members: dict[str, frozenset[str]] = {}
        self._read_at: dict[str, float] = {}
        self._fresh_until = float("-inf")
        self._lock = threading.Lock()

    @property
    def open_to_everyone(self) -> bool:
        """No list is configured, so everyone in the workspace may."""
        return not (self._users or self._groups or self._channels)

    def refusal(self, user_id: str, channel_id: str | None) -> str | None:
        """None when allowed, else the catalog key of the reason."""
        if self.open_to_everyone or user_id in self._users or channel_id in self._channels:
            return None
        if self._groups and self._in_a_group(user_id):
            return None
        return self._refusal_key

    def _in_a_group(self, user_id: str) -> bool:
        with self._lock:
            now = self._clock()
            if now >= self._fresh_until:
                self._refresh(now)
            return any(user_id in members for members in self._members.values())

    def _refresh(self, now: float) -> None:
        unanswered = False
        for group in self._groups:
            members = self._read(group)
            if members is not None:
                self._members[group], self._read_at[group] = members, now
                continue
            unanswered = True
            if now - self._read_at.get(group, float("-inf")) > MAX_STALE_SECONDS:
                self._members.pop(group, None)  # fail closed: nothing Slack said lately
        self._fresh_until = now + (RETRY_SECONDS if unanswered else GROUP_CACHE_SECONDS)

    def _read(self, group: str) -> frozenset[str] | None:
        """The group's members; empty when Slack refuses to list it, None when it could not."""
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            reason = lasting_refusal(error)
            if reason is None:
                _unanswered(group, f"HTTP {error.response.status_code}")
                return None
            # Fail closed: a group Slack will not list grants nothing.
            logger.warning("cannot read user group %s: %s", group, reason)
            return frozenset()
        except (SlackClientError, OSError, ValueError) as error:
            _unanswered(group, type(error).__name__)
            return None
        return frozenset(str(user) for user in response.get("users") or [])


def _unanswered(group: str, why: str) -> None:
    logger.warning(
        "Slack did not list user group %s (%s); its members as last read stand for now",
        group,
        why,
    )
