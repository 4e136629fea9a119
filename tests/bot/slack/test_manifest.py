"""The Slack app manifest creates an app that can do everything the bot asks Slack for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import SlackSettings

MANIFEST = Path(__file__).parents[3] / "config" / "slack-app-manifest.yaml"


def _manifest() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return document


def test_the_slash_command_is_the_one_the_bot_listens_to() -> None:
    (command,) = _manifest()["features"]["slash_commands"]
    assert command["command"] == SlackSettings().command


def test_socket_mode_and_interactivity_are_on() -> None:
    settings = _manifest()["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True


def test_every_web_api_method_the_bot_calls_has_its_scope() -> None:
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    # users.info (locale), usergroups.users.list (authorization), chat.postMessage (alerts),
    # conversations.history (the outbox's look for a post it made before a crash),
    # files.getUploadURLExternal and files.completeUploadExternal (the trend's chart).
    assert {
        "commands",
        "chat:write",
        "users:read",
        "usergroups:read",
        "channels:history",
        "groups:history",
        "files:write",
    } <= scopes


def test_thread_replies_reach_the_bot_in_public_and_private_channels() -> None:
    events = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups"} <= events
    # Reading those messages needs the history scopes.
    assert {"channels:history", "groups:history"} <= set(
        _manifest()["oauth_config"]["scopes"]["bot"]
    )
