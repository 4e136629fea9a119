"""The alert message's controls: Acknowledge, Unacknowledge, Escalate, Silence, Re-check."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack

from bot.alerts.message import ALERT_RECHECK_ACTION, SILENCE_CHOICES, parse_reference
from bot.alerts.service import Action
from bot.alerts.wiring import Alerting
from bot.slack.responder import Responder
from bot.slack.services import Services
from checks.inventory import Server

logger = logging.getLogger(__name__)
SILENCE_LENGTHS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def handle_alert_action(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any], kind: str
) -> None:
    """Ack at once; act on the alert the control names, or tell the user why not (ephemerally)."""
    ack()
    alerting = services.alerting
    if alerting is None:
        return
    user = str((body.get("user") or {}).get("id", ""))
    channel = (body.get("channel") or {}).get("id")
    t = services.catalog_for(user)
    respond = Responder(str(body.get("response_url", "")))

    def tell(key: str, **params: object) -> None:
        respond(t.text(key, **params), response_type="ephemeral", replace_original=False)

    # Before anything is looked up: "unknown server" to anyone would let them probe for names.
    refusal = (
        services.authorizer.refusal(user, channel)
        if kind == ALERT_RECHECK_ACTION
        else services.responder_refusal(user, channel)
    )
    if refusal is not None:
        tell(refusal)
        return
    # The control's value came back from Slack: trust it no more than typed text.
    value = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
    reference, _, choice = value.rpartition("|") if kind == "silence" else (value, "", "")
    parsed = parse_reference(reference)
    server = services.checks.inventory.find(parsed[0]) if parsed else None
    if parsed is None or server is None:
        tell("error.unknown_server", name=(parsed[0] if parsed else value)[:80])
        return
    window_at = parsed[1]
    if kind == ALERT_RECHECK_ACTION:
        if (busy := services.checks.busy_refusal(t)) is not None:  # pressed over and over
            respond(busy, response_type="ephemeral", replace_original=False)
            return
        services.checks.submit(lambda: _recheck(alerting, server, window_at, user))
        return
    if kind == "silence":
        if choice not in SILENCE_CHOICES:
            tell("slack.not_understood")
            return
        now = alerting.clock()
        until = window_at if choice == "window" else now + SILENCE_LENGTHS[choice]
        alerting.service.silence(server.name, until, user, window_at)
    else:
        outcome = alerting.service.act(server.name, window_at, Action(kind), user)
        if not outcome.found:
            tell("alerts.gone")
            return
    alerting.deliver_soon()


def _recheck(alerting: Alerting, server: Server, window_at: datetime, user: str) -> None:
    alerting.service.check(server, window_at, actor=user)
    alerting.deliver_soon()
