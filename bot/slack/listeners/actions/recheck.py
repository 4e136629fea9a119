"""The Re-check button: run the server's check again and replace the message with the result."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.slack.blocks import report_blocks
from bot.slack.responder import Responder
from bot.slack.services import Services


def handle_recheck(
    services: Services, ack: Ack, body: dict[str, Any], action: dict[str, Any]
) -> None:
    """Ack at once; the check runs in the check pool and updates the message in place."""
    ack()
    respond = Responder(str(body.get("response_url", "")))
    user = str((body.get("user") or {}).get("id", ""))
    t = services.catalog_for(user)
    channel = (body.get("channel") or {}).get("id")
    refusal = services.authorizer.refusal(user, channel)
    if refusal is not None:
        respond(t.text(refusal), response_type="ephemeral", replace_original=False)
        return
    # The button's value came back from Slack: trust it no more than typed text.
    resolution = services.checks.resolve([str(action.get("value", ""))])
    if not resolution.servers:
        name = str(action.get("value", ""))[:80]
        respond(
            t.text("error.unknown_server", name=name),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if (busy := services.checks.busy_refusal(t)) is not None:  # a button pressed over and over
        respond(busy, response_type="ephemeral", replace_original=False)
        return

    def run() -> None:
        (checked,) = services.checks.check(resolution.servers, t)
        # As the slash command shows it: with the stored trend where alerts keep a history.
        alerting = services.alerting
        report = alerting.service.with_trends(checked) if alerting else checked
        status = t.text(f"status.{report.status.value}")
        respond(f"{report.host}: {status}", report_blocks(report, t), replace_original=True)

    services.checks.submit(run)
