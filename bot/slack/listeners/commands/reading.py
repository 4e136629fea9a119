"""The shared start of the commands that read the bot's database about one server (`trend`,
`history`): alerts on, one known server, room in the check pool; then the ack."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack

from bot.alerts.wiring import Alerting
from bot.slack.responder import Responder
from bot.slack.services import Services
from bot.slack.slash_text import SlashRequest
from checks.i18n import Catalog
from checks.inventory import Server


@dataclass(frozen=True)
class Reading:
    """What the answer, run later in the check pool, needs."""

    alerting: Alerting
    server: Server
    respond: Responder
    response_type: str


def start_reading(
    services: Services,
    ack: Ack,
    request: SlashRequest,
    command: dict[str, str],
    t: Catalog,
    kind: str,
) -> Reading | None:
    """Ack with `{kind}.reading` and return what the answer needs, or ack why not and return
    None: no alerts (`{kind}.no_alerting`), an unknown server, or a full check queue."""
    alerting = services.alerting
    if alerting is None:
        ack(text=t.text(f"{kind}.no_alerting"))
        return None
    resolution = services.checks.resolve(request.servers)
    refusal = resolution.refusal(t) or services.checks.busy_refusal(t)
    if refusal is not None:
        ack(text=refusal)
        return None
    (server,) = resolution.servers
    ack(text=t.text(f"{kind}.reading", server=server.name))
    respond = Responder(str(command.get("response_url", "")))
    return Reading(alerting, server, respond, "in_channel" if request.public else "ephemeral")
