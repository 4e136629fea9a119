"""Default answers of the Slack Web API methods the bot uses, over an in-memory workspace.

Transport concerns (tokens, scripted faults, recording) live in ``slack_api``; this module only
decides what a healthy Slack would answer, including its ordinary errors (``channel_not_found``,
``user_not_found``, ``no_text``, ``invalid_blocks`` ...).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

from .slack_blocks import check_blocks
from .slack_workspace import SlackChannel, SlackUser, TsClock, Workspace, new_block_id

__all__ = ["WebApiMethods"]

Params = dict[str, Any]
Answer = dict[str, Any]

MAX_MESSAGE_TEXT = 40_000


def _truthy(value: object) -> bool:
    # Form bodies carry booleans as "1"/"0" (slack_sdk converts them); JSON bodies as true/false.
    return value in (True, 1, "1", "true", "True")


def _error(error: str, **extra: Any) -> Answer:
    return {"ok": False, "error": error, **extra}


class WebApiMethods:
    """What each supported method answers; ``users``/``channels``/``usergroups`` are editable."""

    def __init__(self, ws: Workspace, clock: TsClock, socket_url: Callable[[], str]) -> None:
        self.ws = ws
        self.clock = clock
        self.socket_url = socket_url
        self.users: dict[str, SlackUser] = {
            "U123": SlackUser("U123", "alice", "Alice Admin"),
            ws.bot_user_id: SlackUser(ws.bot_user_id, ws.bot_name, is_bot=True),
        }
        self.channels: dict[str, SlackChannel] = {
            "C123": SlackChannel("C123", "ops", members=["U123", ws.bot_user_id]),
        }
        self.usergroups: dict[str, list[str]] = {"S123": ["U123"]}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.RLock()
        self._handlers: dict[str, Callable[[Params], Answer]] = {
            "api.test": lambda params: {"ok": True, "args": params},
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.info": self._conversation_info,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.members": self._conversation_members,
            "conversations.join": self._join,
            "users.info": self._user_info,
            "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": lambda params: {"ok": True, "url": self.socket_url()},
        }

    def add_handlers(self, handlers: dict[str, Callable[[Params], Answer]]) -> None:
        """Methods answered elsewhere (file uploads), under the same lock and token checks."""
        self._handlers.update(handlers)

    def knows(self, method: str) -> bool:
        return method in self._handlers

    def answer(self, method: str, params: Params) -> Answer:
        with self.lock:
            return self._handlers[method](params)

    def remember_message(self, channel: str, message: dict[str, Any]) -> None:
        """Stores a message so that chat.update and block actions can find it."""
        with self.lock:
            self.messages[(channel, message["ts"])] = message

    def bot_message(
        self, ts: str, text: str, blocks: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        """A message as Slack stores it when the bot posts it."""
        message: dict[str, Any] = {
            "user": self.ws.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.ws.bot_id,
            "app_id": self.ws.app_id,
            "text": text,
            "team": self.ws.team_id,
            "bot_profile": {
                "id": self.ws.bot_id,
                "app_id": self.ws.app_id,
                "deleted": False,
                "name": self.ws.bot_name,
                "team_id": self.ws.team_id,
            },
        }
        if blocks:
            # Slack gives every block without one a block_id, and echoes it in block_actions.
            message["blocks"] = [
                {**b, "block_id": b.get("block_id") or new_block_id()} for b in blocks
            ]
        return message

    # --- auth / apps ---------------------------------------------------------------------------

    def _auth_test(self, params: Params) -> Answer:
        ws = self.ws
        return {
            "ok": True,
            "url": ws.url,
            "team": ws.team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    # --- chat ----------------------------------------------------------------------------------

    def _channel_id(self, ref: object) -> str | None:
        if not ref:
            return None
        ref = str(ref).lstrip("#")
        by_name = [c.id for c in self.channels.values() if c.name == ref]
        return by_name[0] if by_name else ref

    def _content(self, params: Params) -> tuple[str, list[dict[str, Any]] | None, Answer | None]:
        text = str(params.get("text") or "")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text and not blocks and not params.get("attachments"):
            return text, None, _error("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            return text, None, _error("msg_too_long")
        if blocks:
            try:
                check_blocks(blocks)
            except AssertionError as exc:
                return (
                    text,
                    None,
                    _error(
                        "invalid_blocks",
                        errors=[str(exc)],
                        response_metadata={"messages": [f"[ERROR] {exc}"]},
                    ),
                )
        return text, blocks, None

    def _post_message(self, params: Params) -> Answer:
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        text, blocks, problem = self._content(params)
        if problem:
            return problem
        message = self.bot_message(self.clock.next(), text, blocks)
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if params.get("attachments"):
            message["attachments"] = params["attachments"]
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        self.remember_message(channel, message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _history(self, params: Params) -> Answer:
        """Newest first, as Slack answers; metadata only with include_all_metadata."""
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        limit = int(str(params.get("limit") or 100))
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        with self.lock:
            in_channel = [
                m for (c, _), m in self.messages.items() if c == channel and "thread_ts" not in m
            ]
        found = sorted(in_channel, key=lambda m: float(m["ts"]), reverse=True)[:limit]
        if not with_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False}

    def _replies(self, params: Params) -> Answer:
        """A thread, parent first then replies oldest first; metadata as for history."""
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        ts = str(params.get("ts") or "")
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        with self.lock:
            parent = self.messages.get((channel, ts))
            if parent is None:
                return _error("thread_not_found")
            thread = [
                m
                for (c, _), m in self.messages.items()
                if c == channel and (m["ts"] == ts or m.get("thread_ts") == ts)
            ]
        found = sorted(thread, key=lambda m: float(m["ts"]))
        if not with_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False}

    def _update(self, params: Params) -> Answer:
        channel = self._channel_id(params.get("channel"))
        ts = str(params.get("ts") or "")
        if channel is None:
            return _error("channel_not_found")
        stored = self.messages.get((channel, ts))
        if stored is None:
            return _error("message_not_found")
        text, blocks, problem = self._content(params)
        if problem:
            return problem
        updated = {
            **self.bot_message(ts, text, blocks),
            "edited": {"user": self.ws.bot_user_id, "ts": self.clock.next()},
        }
        if "metadata" in stored:
            updated["metadata"] = stored["metadata"]
        self.remember_message(channel, updated)
        return {"ok": True, "channel": channel, "ts": ts, "text": text, "message": updated}

    def _post_ephemeral(self, params: Params) -> Answer:
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        known = self.channels.get(channel)
        if known is not None and known.members and params.get("user") not in known.members:
            return _error("user_not_in_channel")
        _, _, problem = self._content(params)
        return problem or {"ok": True, "message_ts": self.clock.next()}

    def _permalink(self, params: Params) -> Answer:
        channel = self._channel_id(params.get("channel"))
        ts = str(params.get("message_ts") or "")
        if channel is None:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        url = f"{self.ws.url}archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": url}

    # --- conversations -------------------------------------------------------------------------

    def _conversation_info(self, params: Params) -> Answer:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return _error("channel_not_found")
        info = channel.to_api()
        if _truthy(params.get("include_num_members")):
            info["num_members"] = len(channel.members)
        return {"ok": True, "channel": info}

    def _conversation_members(self, params: Params) -> Answer:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return _error("channel_not_found")
        limit = int(params.get("limit") or 100)
        cursor = str(params.get("cursor") or "")
        start = 0
        if cursor:
            # Slack's cursors are base64 of "user:<id>" naming the first member of the next page.
            first = base64.b64decode(cursor).decode().removeprefix("user:")
            start = channel.members.index(first) if first in channel.members else 0
        page = channel.members[start : start + limit]
        rest = channel.members[start + limit :]
        next_cursor = base64.b64encode(f"user:{rest[0]}".encode()).decode() if rest else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _join(self, params: Params) -> Answer:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return _error("channel_not_found")
        if channel.is_private:
            return _error("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _error("is_archived")
        if channel.is_member:
            return {
                "ok": True,
                "channel": channel.to_api(),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel.is_member = True
        if self.ws.bot_user_id not in channel.members:
            channel.members.append(self.ws.bot_user_id)
        return {"ok": True, "channel": channel.to_api()}

    # --- users ---------------------------------------------------------------------------------

    def _user_info(self, params: Params) -> Answer:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            return _error("user_not_found")
        include_locale = _truthy(params.get("include_locale"))
        return {"ok": True, "user": user.to_api(self.ws.team_id, include_locale=include_locale)}

    def _usergroup_users(self, params: Params) -> Answer:
        members = self.usergroups.get(str(params.get("usergroup") or ""))
        if members is None:
            return _error("no_such_subteam")
        return {"ok": True, "users": list(members)}
