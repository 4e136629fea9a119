"""`/backupcheck …`: ack within Slack's 3 seconds, check in the background, then respond."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.blocks import help_blocks, report_blocks, summary_blocks, windows_blocks
from bot.slack.listeners.commands.history import handle_history
from bot.slack.listeners.commands.trend import handle_trend
from bot.slack.responder import Responder
from bot.slack.services import Services
from bot.slack.slash_text import SlashRequest, parse_slash_text
from bot.slack.status_blocks import status_blocks
from checks.i18n import Catalog
from checks.inventory import Server
from checks.report import Report
from checks.windows import plan_windows, server_zone

# A response_url takes five posts; individual reports beyond this become one summary.
MAX_SEPARATE_REPORTS = 4
PROGRESS_UPDATES = 2


def handle_backupcheck(
    services: Services, ack: Ack, command: dict[str, str], client: WebClient
) -> None:
    """Answer one slash command; never raises on odd input."""
    user = str(command.get("user_id", ""))
    t = services.catalog_for(user)
    refusal = services.authorizer.refusal(user, command.get("channel_id"))
    if refusal is not None:
        ack(text=t.text(refusal))
        return
    request = parse_slash_text(str(command.get("text", "")))
    if request.action in ("silence", "unsilence", "bad_duration"):
        _silence(services, ack, request, user, command.get("channel_id"), t)
        return
    if request.action == "trend":
        handle_trend(services, ack, request, command, client, t)
        return
    if request.action == "history":
        handle_history(services, ack, request, command, t)
        return
    if request.action == "help":
        ack(blocks=_dicts(help_blocks(t, services.command, request.understood)))
        return
    if request.action == "status":
        _status(services, ack, request, command, t)
        return
    if request.action in ("all", "windows"):
        servers = services.checks.all_servers()
        if not servers:
            ack(text=t.text("error.no_servers"))
            return
    else:
        resolution = services.checks.resolve(request.servers)
        if (refusal := resolution.refusal(t)) is not None:
            ack(text=refusal)
            return
        servers = list(resolution.servers)
    if (busy := services.checks.busy_refusal(t)) is not None:
        ack(text=busy)
        return
    if request.action == "windows" and services.alerting is not None:
        ack(text=t.text("slack.reading_windows"))  # from the stored plan: nothing is checked
    elif len(servers) <= 5:
        ack(text=t.text("slack.checking", names=", ".join(s.name for s in servers)))
    else:
        ack(text=t.text("slack.checking_many", count=len(servers)))
    response_type = "in_channel" if request.public else "ephemeral"
    respond = Responder(str(command.get("response_url", "")))
    if request.action == "windows":
        services.checks.submit(lambda: _windows(services, servers, t, respond, response_type))
        return
    services.checks.submit(lambda: _check_and_respond(services, servers, t, respond, response_type))


def _windows(
    services: Services, servers: list[Server], t: Catalog, respond: Responder, response_type: str
) -> None:
    alerting = services.alerting
    if alerting is None:  # no scheduler: ask the servers themselves
        windows = plan_windows(servers, services.checks.check(servers, t))
        blocks = windows_blocks(windows, t)
    else:
        blocks = windows_blocks(alerting.planned_windows(), t, alerting.silences_shown())
    respond(t.text("windows.title"), blocks, response_type=response_type)


def _status(
    services: Services, ack: Ack, request: SlashRequest, command: dict[str, str], t: Catalog
) -> None:
    """The replicas, what each holds and the next checks, from the database: nothing is checked."""
    alerting = services.alerting
    if alerting is None:
        ack(text=t.text("replicas.no_alerting"))
        return
    if (busy := services.checks.busy_refusal(t)) is not None:
        ack(text=busy)
        return
    ack(text=t.text("replicas.reading"))
    respond = Responder(str(command.get("response_url", "")))
    response_type = "in_channel" if request.public else "ephemeral"

    def answer() -> None:
        now = alerting.clock()
        blocks = status_blocks(alerting.status(now), alerting.planned_windows(), t, now)
        respond(t.text("replicas.title"), blocks, response_type=response_type)

    services.checks.submit(answer)


def _silence(
    services: Services,
    ack: Ack,
    request: SlashRequest,
    user: str,
    channel: str | None,
    t: Catalog,
) -> None:
    """`silence SERVER DURATION` and `unsilence SERVER`: quick writes, so answered in the ack."""
    if request.action == "bad_duration":
        ack(text=t.text("slack.bad_duration", text=request.duration_text))
        return
    alerting = services.alerting
    if alerting is None:
        ack(text=t.text("slack.no_alerting"))
        return
    # Before the lookup, so that a refused user learns nothing about which servers exist.
    refusal = services.responder_refusal(user, channel)
    if refusal is not None:
        ack(text=t.text(refusal))
        return
    resolution = services.checks.resolve(request.servers)
    if (unknown := resolution.refusal(t)) is not None:
        ack(text=unknown)
        return
    (server,) = resolution.servers
    if request.action == "silence" and request.duration is not None:
        until = alerting.clock() + request.duration
        alerting.service.silence(server.name, until, user)
        # A longer silence already in force stays; say which one holds.
        active = alerting.service.silences.of(server.name, alerting.clock())
        ends = active.until if active is not None else until
        shown = ends.astimezone(alerting.service.zone(server.name))
        ack(text=t.text("slack.silenced", server=server.name, until=t.datetime(shown)))
    elif alerting.service.unsilence_server(server.name, user):
        ack(text=t.text("slack.unsilenced", server=server.name))
    else:
        ack(text=t.text("slack.not_silenced", server=server.name))
    alerting.deliver_soon()


def _check_and_respond(
    services: Services,
    servers: Sequence[Server],
    t: Catalog,
    respond: Responder,
    response_type: str,
) -> None:
    if len(servers) <= MAX_SEPARATE_REPORTS:
        for server, checked in zip(servers, services.checks.check(servers, t), strict=True):
            # The trend needs the bot's history, which it keeps once alerts are set up.
            alerting = services.alerting
            report = alerting.service.with_trends(checked) if alerting else checked
            blocks = report_blocks(report, t, server_zone(server, report.next_backup_at))
            respond(_fallback(report, t), blocks, response_type=response_type)
        return
    done: list[Report] = []
    lock = threading.Lock()
    marks = {len(servers) * (n + 1) // (PROGRESS_UPDATES + 1) for n in range(PROGRESS_UPDATES)}

    def progress(report: Report) -> None:
        with lock:
            done.append(report)
            count, snapshot = len(done), list(done)
        if count in marks and count < len(servers):
            title = t.text("slack.summary_progress", done=count, total=len(servers))
            respond(title, summary_blocks(snapshot, t, len(servers)), response_type=response_type)

    reports = services.checks.check(servers, t, progress=progress)
    title = t.text("summary.title", count=len(servers))
    respond(title, summary_blocks(reports, t, len(servers)), response_type=response_type)


def _fallback(report: Report, t: Catalog) -> str:
    """The notification text (what phones and screen readers show)."""
    return f"{report.host}: {t.text(f'status.{report.status.value}')}"


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]
