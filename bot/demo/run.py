"""Runs the demo: its files in a temporary directory, then the normal `serve` until Ctrl-C."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from bot.config import ChannelId, Config, ConfigError, secret_from_env
from bot.demo.setup import SERVERS, local_zone, prepare_demo
from bot.serve import serve
from checks.i18n import Catalog

TOKENS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")


class DemoError(ValueError):
    """The demo cannot start; the message is one sentence with what to do."""


def demo_channel(settings: Config, channel: str | None, t: Catalog) -> str:
    """--channel, else alerts.channel; a channel ID, since it ends up in API calls."""
    chosen = channel or settings.alerts.channel
    if chosen is None:
        raise DemoError(t.text("demo.no_channel"))
    try:
        return TypeAdapter(ChannelId).validate_python(chosen)
    except ValidationError:
        raise DemoError(t.text("demo.bad_channel")) from None


def require_tokens(environ: Mapping[str, str], t: Catalog) -> None:
    """Both Socket Mode tokens are set (in the environment or a _FILE), else one sentence."""
    for name in TOKENS:
        try:
            found = secret_from_env(environ, name)
        except ConfigError as error:
            raise DemoError(str(error)) from None
        if not (found or "").strip():
            raise DemoError(t.text("demo.no_token", variable=name))


def run_demo(
    settings: Config,
    channel: str | None,
    environ: Mapping[str, str],
    t: Catalog,
    say: Callable[[str], None],
) -> None:
    """Check the tokens and the channel, then run the bot with the demo's servers until SIGINT
    or SIGTERM; the temporary files and database go with it."""
    chosen = demo_channel(settings, channel, t)
    require_tokens(environ, t)
    # ignore_cleanup_errors: on Windows the database may still be open when the bot stops.
    with tempfile.TemporaryDirectory(
        prefix="backupcheck-demo-", ignore_cleanup_errors=True
    ) as directory:
        demo = prepare_demo(
            Path(directory), settings, chosen, datetime.now(UTC), local_zone(environ)
        )
        say(
            t.text(
                "demo.started",
                servers=t.text("list_separator").join(SERVERS),
                channel=chosen,
                check=t.datetime(demo.first_check_at),
                window=t.datetime(demo.window_at),
            )
        )
        serve(demo.config, "socket", demo.config.slack.http_port, environ, demo=True)
    say(t.text("demo.stopped"))
