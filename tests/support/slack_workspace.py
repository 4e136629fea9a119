"""The fake Slack workspace and the payloads Slack builds from it.

Shared by the Web API stand-in (``slack_api``), its Socket Mode side (``slack_socket``) and the
HTTP-mode request helpers (``slack_signing``), so that a slash command looks the same whichever
way it reaches the app. Field names and value shapes follow what Slack sends today, including
its quirks (a slash command's ``is_enterprise_install`` is the *string* ``"false"``).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SlackChannel",
    "SlackUser",
    "TsClock",
    "Workspace",
    "block_actions_payload",
    "event_callback_payload",
    "message_event",
    "new_block_id",
    "new_envelope_id",
    "new_event_id",
    "new_trigger_id",
    "slash_command_payload",
]


@dataclass
class Workspace:
    """Identity of the team and of the app installed in it."""

    team_id: str = "T0BACKUP1"
    team_domain: str = "backupcheck-test"
    team_name: str = "Backupcheck Test"
    app_id: str = "A0BACKUP1"
    bot_user_id: str = "U0BOT0001"
    bot_id: str = "B0BOT0001"
    bot_name: str = "backupcheck"
    # The deprecated verification token Slack still puts in every payload.
    verification_token: str = "vErIfIcAtIoNtOkEn0000000"  # noqa: S105 - fake
    scopes: tuple[str, ...] = (
        "chat:write",
        "commands",
        "channels:read",
        "channels:join",
        "groups:read",
        "users:read",
        "usergroups:read",
        "files:write",
    )

    @property
    def url(self) -> str:
        return f"https://{self.team_domain}.slack.com/"


@dataclass
class SlackUser:
    """A member of the workspace, as ``users.info`` describes it."""

    id: str
    name: str
    real_name: str = ""
    locale: str = "en-US"
    tz: str = "Europe/London"
    tz_label: str = "Greenwich Mean Time"
    tz_offset: int = 0
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, team_id: str, *, include_locale: bool) -> dict[str, Any]:
        real_name = self.real_name or self.name
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "real_name_normalized": real_name,
                "display_name_normalized": self.name,
                "team": team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1732000000,
            "has_2fa": False,
        }
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class SlackChannel:
    """A conversation; ``is_member`` tells whether the bot is in it."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""

    def to_api(self) -> dict[str, Any]:
        text = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": 1700000000,
            "is_archived": self.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_member": self.is_member,
            "topic": {**text, "value": self.topic},
            "purpose": {**text, "value": self.purpose},
        }


class TsClock:
    """Message timestamps: unique, strictly increasing, shaped like ``1732500000.000100``."""

    def __init__(self, step_us: int = 100) -> None:
        self._step = step_us
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + self._step)
            return f"{self._last // 1_000_000}.{self._last % 1_000_000:06d}"


def new_envelope_id() -> str:
    return str(uuid.uuid4())


def new_trigger_id() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


def new_event_id() -> str:
    return "Ev" + secrets.token_hex(5).upper()


def new_block_id() -> str:
    return secrets.token_urlsafe(3)


def slash_command_payload(
    ws: Workspace,
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """The fields of a slash command; HTTP mode form-encodes them, Socket Mode sends them as is."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        # Slash commands are form fields at heart, so even over Socket Mode this is a string.
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def block_actions_payload(
    ws: Workspace,
    *,
    action_id: str,
    value: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    message: dict[str, Any],
    response_url: str,
    action_ts: str,
    block_id: str | None = None,
    button_text: str | None = None,
    trigger_id: str | None = None,
    selected: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button click on ``message`` (or, with ``selected``, the
    choice of that option value in the message's static select menu ``action_id``).

    ``block_id`` and the button label default to those of the button in ``message["blocks"]``
    that carries ``action_id``, as Slack echoes them from the message itself.
    """
    found = _find_button(message.get("blocks") or [], action_id)
    if found is not None:
        block_id = block_id or found[0]
        button_text = button_text or found[1]
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or new_block_id(),
        "text": {"type": "plain_text", "text": button_text or "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": action_ts,
    }
    if selected is not None:
        action = {
            "action_id": action_id,
            "block_id": block_id or action["block_id"],
            "type": "static_select",
            "selected_option": {
                "text": {"type": "plain_text", "text": selected, "emoji": True},
                "value": selected,
            },
            "action_ts": action_ts,
        }
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def event_callback_payload(
    ws: Workspace, event: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    """The Events API wrapper around ``event``, addressed to the bot."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(float(event.get("event_ts", time.time()))),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def message_event(
    *, text: str, user: str, channel: str, ts: str, thread_ts: str | None = None
) -> dict[str, Any]:
    """A plain user ``message`` event, optionally a reply in the thread ``thread_ts``."""
    event: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = user
    return event


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, str] | None:
    for block in blocks:
        elements = list(block.get("elements") or [])
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                label = (element.get("text") or {}).get("text", "")
                return str(block.get("block_id") or new_block_id()), str(label)
    return None
