"""`backupcheck serve`: runs the bot in Socket Mode (default) or behind an HTTP endpoint."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from types import FrameType

from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config, ConfigError, secret_from_env
from bot.health import HEALTH_PATH, Health, serve_health
from bot.i18n import catalog
from bot.slack.app import build_app
from bot.slack.http import EVENTS_PATH, make_http_server
from bot.storage.database import MigrationBusy, open_database
from bot.storage.lock import DatabaseInUse, lock_sqlite
from checks.i18n import Catalog

__all__ = [
    "EVENTS_PATH",
    "CannotStart",
    "MissingSecret",
    "make_http_server",
    "serve",
    "settle_heap",
]
logger = logging.getLogger(__name__)
CLOSE_WAIT_S = 10.0  # closing Slack's connection takes a second or two; never longer than this


class CannotStart(ValueError):
    """The bot cannot start; the message is one sentence that says what to fix."""


class MissingSecret(CannotStart):
    """A token the chosen mode needs is not in the environment."""


def _require(environ: Mapping[str, str], name: str, why: str) -> str:
    try:
        value = (secret_from_env(environ, name) or "").strip()
    except ConfigError as error:
        raise MissingSecret(str(error)) from None
    if not value:
        raise MissingSecret(f"{name} (or {name}_FILE) is not set: {why}")
    return value


@contextlib.contextmanager
def _storage(config: Config) -> Iterator[sessionmaker[Session] | None]:
    """The database while the bot runs, None without alerts; a SQLite file is this process's."""
    if not config.alerts.channel:
        yield None
        return
    url = config.storage.url
    t = catalog(config.language)
    where = make_url(url).render_as_string(hide_password=True)
    try:
        # Before migrating: a second bot on one SQLite file must not touch it at all.
        lock = lock_sqlite(url)
    except DatabaseInUse as error:
        raise CannotStart(_in_use(error, t)) from None
    except OSError as error:
        raise CannotStart(t.text("serve.database", where=where, reason=str(error))) from None
    try:
        yield _open(url, where, t)
    finally:
        if lock is not None:
            lock.release()


def _open(url: str, where: str, t: Catalog) -> sessionmaker[Session]:
    try:
        return open_database(url)
    except MigrationBusy as error:
        key = "serve.migration_busy" if error.holder is None else "serve.migration_busy_pid"
        seconds = round(error.waited_s)
        raise CannotStart(t.text(key, where=where, seconds=seconds, pid=error.holder)) from None
    except (SQLAlchemyError, OSError) as error:
        # The driver's own words, on one line; the URL without its password.
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
        raise CannotStart(t.text("serve.database", where=where, reason=reason)) from None


def _in_use(error: DatabaseInUse, t: Catalog) -> str:
    if error.pid is None:
        holder = ""
    elif error.host in (None, socket.gethostname()):
        holder = t.text("serve.holder_pid", pid=error.pid)
    else:
        holder = t.text("serve.holder_pid_host", pid=error.pid, host=error.host)
    return t.text("serve.sqlite_in_use", holder=holder, database=error.database)


def settle_heap() -> None:
    """Exempt what start-up built (modules, config, the App) from later garbage collections."""
    # A full collection walks every tracked object: over the ~140,000 that imports and set-up
    # leave, each one stalled all requests for about 100 ms, several times the ack's p99.
    gc.collect()
    gc.freeze()


def serve(
    config: Config,
    mode: str,
    port: int,
    environ: Mapping[str, str],
    host: str | None = None,
    *,
    demo: bool = False,
) -> None:
    """Run until SIGTERM or SIGINT; in-flight checks may finish and the outbox is flushed
    within alerts.shutdown_grace_s, and checks still running are left to the other replicas.
    HTTP mode listens on `host`, slack.http_host by default; `demo` marks every alert."""
    bot_token = _require(environ, "SLACK_BOT_TOKEN", "the bot token (xoxb-…) of the Slack app")
    api_url = environ.get("SLACK_API_URL") or config.slack.api_url
    app_token = secret = ""
    if mode == "socket":
        app_token = _require(
            environ, "SLACK_APP_TOKEN", "the app-level token (xapp-…) for Socket Mode"
        )
    else:
        secret = _require(
            environ, "SLACK_SIGNING_SECRET", "HTTP mode verifies every request with it"
        )
    with _storage(config) as sessions:
        app, services = build_app(
            config,
            bot_token=bot_token,
            signing_secret=secret,
            api_url=api_url,
            environ=environ,
            sessions=sessions,
            demo=demo,
        )
        settle_heap()
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            logger.info("received signal %d, stopping", signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if mode == "socket":
            handler = SocketModeHandler(app, app_token=app_token)
            handler.connect()  # type: ignore[no-untyped-call]
            logger.info("connected to Slack in Socket Mode")

            def close() -> None:
                handler.close()  # type: ignore[no-untyped-call]

            def connected() -> bool:
                return bool(handler.client.is_connected())
        else:
            bind = host or config.slack.http_host
            server = make_http_server(app, port, bind)
            threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
            connected = server.is_serving  # Slack calls us: being up is all we can tell
            logger.info(
                "listening for Slack on %s port %d at %s", bind, server.server_port, EVENTS_PATH
            )
            close = server.shutdown
        scheduler = services.alerting.scheduler if services.alerting is not None else None
        if scheduler is not None:
            scheduler.start()
            logger.info("scheduled checks are on; alerts go to %s", config.alerts.channel)
        else:
            logger.info("alerts.channel is not set: no scheduled checks")
        health = None
        if config.slack.health_port:
            checks_running = (lambda: scheduler.running) if scheduler is not None else None
            health = serve_health(Health(connected, checks_running), config.slack.health_port)
            logger.info("health at http://127.0.0.1:%d%s", config.slack.health_port, HEALTH_PATH)
        stop.wait()
        stopping_at = time.monotonic()
        if health is not None:
            health.shutdown()
        # Slack's events go to the other replicas at once, while our checks get their grace.
        closing = threading.Thread(target=close, name="close-slack", daemon=True)
        closing.start()
        if services.alerting is not None:
            # Within alerts.shutdown_grace_s: running checks, then the outbox.
            services.alerting.scheduler.stop(wait=True)
        closing.join(CLOSE_WAIT_S)
        # Checks asked for in Slack get the same grace, beside the scheduled ones; one still
        # running after it (a slow host) is left behind on its daemon thread.
        left = config.alerts.shutdown_grace_s - (time.monotonic() - stopping_at)
        services.checks.shutdown(wait=True, timeout=max(0.0, left))
