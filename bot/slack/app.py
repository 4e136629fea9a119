"""Builds the bolt App: the Slack client, the shared services, and the listeners. Nothing else."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.wiring import Clock, build_alerting, utc_now
from bot.config import Config
from bot.slack.authz import Authorizer
from bot.slack.check_pool import CheckService
from bot.slack.client import ACK_PATH_TIMEOUT_S, single_try_client, web_client
from bot.slack.language import LanguagePicker
from bot.slack.listeners import register
from bot.slack.replay import WINDOW_S, ReplayGuard, SeenSignatures
from bot.slack.services import Services
from bot.storage.seen_requests import SeenRequestStore
from checks.collect.dispatch import collect_for
from checks.fleet import Collect

logger = logging.getLogger(__name__)
# bolt's listener threads only parse, ack and hand off; checks run in CheckService's pool.
LISTENER_THREADS = 16


def build_app(
    config: Config,
    *,
    bot_token: str,
    signing_secret: str = "",
    api_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    collect: Collect | None = None,
    listener_pool: ThreadPoolExecutor | None = None,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock = utc_now,
    demo: bool = False,
) -> tuple[App, Services]:
    """The App and its services; `collect` defaults to each server's snapshot file or WinRM.
    With a database and alerts.channel set, the scheduled alerts are wired too (started by the
    caller); `demo` marks every alert message as a demo's."""
    client = web_client(bot_token, api_url or config.slack.api_url)
    collect = collect or collect_for(config, environ or {}, clock)
    alerting = None
    if sessions is not None and config.alerts.channel is not None:
        alerting = build_alerting(config, sessions, client, collect, clock, demo=demo)
    # Group members and user locales are read while Slack waits for an ack: once, briefly.
    ack_path = single_try_client(bot_token, api_url or config.slack.api_url, ACK_PATH_TIMEOUT_S)
    services = Services(
        checks=CheckService(
            config, collect, config.slack.check_workers, config.slack.check_queue_limit
        ),
        authorizer=Authorizer(
            ack_path,
            config.slack.allowed_users,
            config.slack.allowed_usergroups,
            config.slack.allowed_channels,
        ),
        languages=LanguagePicker(
            config.language,
            config.slack.use_user_locale,
            ack_path,
        ),
        command=config.slack.command,
        alerting=alerting,
    )
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Listeners only ack and hand off to the check pool: they can run on the request's own
        # thread instead of bolt's listener pool.
        process_before_response=True,
        listener_executor=listener_pool
        or ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="bolt"),
    )
    app.error(_log_error)
    # HTTP mode: bolt accepts a signature for five minutes; this accepts each one once, across
    # every replica on the database.
    shared = SeenRequestStore(sessions, WINDOW_S) if sessions is not None else None
    app.use(ReplayGuard(SeenSignatures(), shared))
    register(app, services)
    return app, services


def _log_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    # A bad payload must never take the bot down; Slack gets a plain 500 for that one request.
    logger.error(
        "listener failed on a %s payload: %s",
        body.get("type", "?"),
        type(error).__name__,
        exc_info=error,
    )
    return BoltResponse(status=500, body="")
