"""Button listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.blocks import RECHECK_ACTION
from bot.listeners.actions.recheck import handle_recheck
from bot.services import Services


def register(app: App, services: Services) -> None:
    """The Re-check button."""

    @app.action(RECHECK_ACTION)
    def recheck(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        handle_recheck(services, ack, body, action)
