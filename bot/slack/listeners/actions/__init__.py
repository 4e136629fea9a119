"""Button listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.alerts.message import (
    ACK_ACTION,
    ALERT_RECHECK_ACTION,
    ESCALATE_ACTION,
    SILENCE_ACTION,
    UNACK_ACTION,
    UNSILENCE_ACTION,
)
from bot.slack.blocks import RECHECK_ACTION
from bot.slack.listeners.actions.alert_actions import handle_alert_action
from bot.slack.listeners.actions.recheck import handle_recheck
from bot.slack.services import Services

# action_id -> what the alert control does (alert_service.Action values, plus re-check).
ALERT_CONTROLS = {
    ACK_ACTION: "acknowledge",
    UNACK_ACTION: "unacknowledge",
    ESCALATE_ACTION: "escalate",
    SILENCE_ACTION: "silence",
    UNSILENCE_ACTION: "unsilence",
    ALERT_RECHECK_ACTION: ALERT_RECHECK_ACTION,
}


def register(app: App, services: Services) -> None:
    """The Re-check button of a report, and the controls of an alert."""

    @app.action(RECHECK_ACTION)
    def recheck(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        handle_recheck(services, ack, body, action)

    for action_id, kind in ALERT_CONTROLS.items():
        _register_control(app, services, action_id, kind)


def _register_control(app: App, services: Services, action_id: str, kind: str) -> None:
    @app.action(action_id)
    def control(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        handle_alert_action(services, ack, body, action, kind)
