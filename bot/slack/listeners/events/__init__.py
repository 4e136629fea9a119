"""Event listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.listeners.events.thread_replies import handle_thread_reply
from bot.slack.services import Services


def register(app: App, services: Services) -> None:
    """Replies in an alert's thread (`ack`, `escalate`)."""

    @app.event("message")
    def message(event: dict[str, Any], client: WebClient) -> None:
        handle_thread_reply(services, event, client)
