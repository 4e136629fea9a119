"""`/backupcheck trend SERVER [VOLUME]`: ack at once; in the check pool, read the history, answer
with the figures through the response_url, then upload each volume's chart into the channel
with files_upload_v2. A failed upload costs one sentence in the answer, never the figures."""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.alerts.wiring import Alerting
from bot.charts.cache import volume_png
from bot.charts.plan import chart_filename
from bot.charts.series import (
    HORIZON,
    LOOKBACK,
    VolumeTrend,
    pick_volumes,
    volume_series,
    volume_trend,
    windows_ahead,
    worst_first,
)
from bot.display import visible
from bot.slack.blocks import escape
from bot.slack.listeners.commands.reading import start_reading
from bot.slack.listeners.commands.trend_blocks import trend_blocks, trend_fallback
from bot.slack.responder import Responder
from bot.slack.services import Services
from bot.slack.slash_text import SlashRequest
from checks.i18n import Catalog
from checks.inventory import Server
from checks.windows import server_zone

logger = logging.getLogger(__name__)

# Charts uploaded for one request: `trend fs01` on a server with many volumes shows them all in
# figures, and the worst ones as charts.
MAX_CHARTS = 4


def handle_trend(
    services: Services,
    ack: Ack,
    request: SlashRequest,
    command: dict[str, str],
    client: WebClient,
    t: Catalog,
) -> None:
    """Answer `trend`; the history needs the alerts' database."""
    reading = start_reading(services, ack, request, command, t, "trend")
    if reading is None:
        return
    alerting, server, respond = reading.alerting, reading.server, reading.respond
    response_type = reading.response_type
    channel = str(command.get("channel_id", ""))

    def answer() -> None:
        trends = _trends(alerting, server, request.volume, respond, t)
        if not trends:
            return
        until = t.datetime(trends[0].now + HORIZON, trends[0].zone)
        blocks = trend_blocks(trends, until, t)
        respond(trend_fallback(trends, until, t), blocks, response_type=response_type)
        _upload(client, channel, trends[:MAX_CHARTS], respond, response_type, t)

    services.checks.submit(answer)


def _trends(
    alerting: Alerting, server: Server, volume: str | None, respond: Responder, t: Catalog
) -> list[VolumeTrend]:
    """Each asked volume's trend, worst first; an empty list once the reason was answered."""
    now = alerting.clock()
    found = volume_series(alerting.service.history.series(server.name, now - LOOKBACK))
    if not found:
        respond(t.text("trend.no_history", server=server.name))
        return []
    chosen = pick_volumes(found, volume)
    if not chosen:
        names = ", ".join(visible(s.label) for s in found)
        shown = visible(volume or "")
        respond(t.text("trend.unknown_volume", server=server.name, volume=shown, names=names))
        return []
    discovered = alerting.service.schedule.discovered().get(server.name, (None, now))[0]
    zone = server_zone(server, discovered)
    windows = windows_ahead(server, discovered, now, zone)
    trends = [volume_trend(server, s, windows, now, zone) for s in chosen]
    return worst_first(trends)


def _upload(
    client: WebClient,
    channel: str,
    trends: list[VolumeTrend],
    respond: Responder,
    response_type: str,
    t: Catalog,
) -> None:
    uploads = []
    for trend in trends:
        png = volume_png(trend, t)
        title = t.text("trend.chart_title", server=trend.server, volume=trend.series.label)
        uploads.append(
            {
                "file": png,
                "filename": chart_filename(trend.server, trend.series.label, trend.day),
                "title": title,
                "alt_txt": title,
            }
        )
    try:
        client.files_upload_v2(
            channel=channel,
            file_uploads=uploads,
            initial_comment=t.text("trend.chart_comment", server=escape(trends[0].server)),
        )
    except SlackApiError as error:
        reason = str(error.response.get("error") or error.response.status_code)
        _failed(reason, respond, response_type, t)
    except (SlackClientError, OSError) as error:  # the upload URL refused, or a dropped line
        _failed(type(error).__name__, respond, response_type, t)


def _failed(reason: str, respond: Responder, response_type: str, t: Catalog) -> None:
    logger.warning("the trend chart could not be uploaded: %s", reason)
    respond(t.text("trend.upload_failed", error=visible(reason)[:100]), response_type=response_type)
