"""`/backupcheck history SERVER`: ack at once; in the check pool, read the server's last backup
windows from the bot's database and answer through the response_url."""

from __future__ import annotations

from slack_bolt import Ack

from bot.alerts.history_read import window_history
from bot.slack.listeners.commands.history_blocks import history_blocks, history_title
from bot.slack.listeners.commands.reading import start_reading
from bot.slack.services import Services
from bot.slack.slash_text import SlashRequest
from checks.i18n import Catalog


def handle_history(
    services: Services, ack: Ack, request: SlashRequest, command: dict[str, str], t: Catalog
) -> None:
    """Answer `history`; the windows are verified by the scheduler, so it needs alerts on."""
    reading = start_reading(services, ack, request, command, t, "history")
    if reading is None:
        return
    alerting, server, respond = reading.alerting, reading.server, reading.respond

    def answer() -> None:
        verifier = alerting.driver.verifier
        if verifier is None:  # verify.enabled is off: no window has a verdict to show
            respond(t.text("history.no_history", server=server.name))
            return
        found = window_history(verifier.outcomes, alerting.service.history, server.name)
        if not found.lines:
            respond(t.text("history.no_history", server=server.name))
            return
        zone = alerting.service.zone(server.name)
        title = history_title(server.name, found.lines, zone, t)
        blocks = history_blocks(server.name, found.lines, zone, t)
        respond(title, blocks, response_type=reading.response_type)

    services.checks.submit(answer)
