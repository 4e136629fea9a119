"""Slash-command listeners: each only parses, authorizes, hands off to the checks, renders."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.listeners.commands.backupcheck import handle_backupcheck
from bot.slack.services import Services


def register(app: App, services: Services) -> None:
    """`/backupcheck` (or the configured name)."""

    @app.command(services.command)
    def backupcheck(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        handle_backupcheck(services, ack, command, client)
