"""Registers every listener kind on the bolt App."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, commands, events
from bot.slack.services import Services


def register(app: App, services: Services) -> None:
    """Wire the slash command, the buttons and the thread replies."""
    commands.register(app, services)
    actions.register(app, services)
    events.register(app, services)
