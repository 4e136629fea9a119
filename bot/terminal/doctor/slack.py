"""The doctor's Slack lines: each token tried against Slack, and the bot in the alert channels."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config, ConfigError, secret_from_env
from bot.slack.client import DEFAULT_API_URL, web_client
from bot.terminal.doctor.findings import Finding, Outcome
from checks.i18n import Catalog

# The doctor waits for Slack less long than the bot does: someone is watching the terminal.
SLACK_TIMEOUT_S = 10
# Slack's answers that mean the token itself is wrong, revoked or of another kind.
BAD_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


@dataclass(frozen=True)
class _Answer:
    """A Web API call's outcome: its data, Slack's error code, or why Slack was not reached."""

    data: Mapping[str, Any] | None = None
    error: str | None = None
    unreachable: str | None = None


def _call(request: Callable[[], Any]) -> _Answer:
    try:
        data = request().data
    except SlackApiError as error:
        # A body that is not JSON comes back as an error sentence; keep it short.
        return _Answer(error=str(error.response.get("error") or "unknown_error")[:120])
    except (OSError, HTTPException) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        return _Answer(unreachable=str(reason)[:200] or type(error).__name__)
    return _Answer(data=data if isinstance(data, dict) else {})


def check_slack(
    config: Config,
    environ: Mapping[str, str],
    t: Catalog,
    client: Callable[[str, str | None], WebClient] = web_client,
) -> list[Finding]:
    """The tokens the configured mode needs, each tried against Slack, and the alert channels."""
    # Each failure becomes a finding with its fix; the SDK's own error log would only repeat it.
    sdk_log = logging.getLogger("slack_sdk")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)
    try:
        return _check_slack(config, environ, t, client)
    finally:
        sdk_log.setLevel(level)


def _check_slack(
    config: Config,
    environ: Mapping[str, str],
    t: Catalog,
    client: Callable[[str, str | None], WebClient],
) -> list[Finding]:
    api_url = environ.get("SLACK_API_URL") or config.slack.api_url

    def connect(token: str) -> WebClient:
        made = client(token, api_url)
        made.timeout = SLACK_TIMEOUT_S
        return made

    bot_token, problem = _secret(environ, "SLACK_BOT_TOKEN")
    if problem is not None:
        bot_finding = Finding(t.text("doctor.check.bot_token"), Outcome.FAILED, problem)
        bot_name = None
    else:
        bot_finding, bot_name = _bot_token(bot_token, connect, api_url, t)
    findings = [bot_finding]
    check, variable = (
        ("app_token", "SLACK_APP_TOKEN")
        if config.slack.mode == "socket"
        else ("signing_secret", "SLACK_SIGNING_SECRET")
    )
    secret, problem = _secret(environ, variable)
    if problem is not None:
        findings.append(Finding(t.text(f"doctor.check.{check}"), Outcome.FAILED, problem))
    elif check == "app_token":
        findings.append(_app_token(secret, connect, api_url, t))
    else:
        findings.append(_signing_secret(secret, t))
    channels = [("alert_channel", config.alerts.channel)]
    if config.alerts.escalation_channel is not None:
        channels.append(("escalation_channel", config.alerts.escalation_channel))
    for check, channel in channels:
        name = t.text(f"doctor.check.{check}")
        if channel is None:
            findings.append(Finding(name, Outcome.SKIPPED, t.text("doctor.channel_none")))
        elif bot_name is None:
            findings.append(Finding(name, Outcome.SKIPPED, t.text("doctor.channel_no_token")))
        else:
            findings.append(_channel(name, channel, bot_name, connect(bot_token), api_url, t))
    return findings


def _secret(environ: Mapping[str, str], variable: str) -> tuple[str, str | None]:
    """A Slack secret from $VARIABLE or the file $VARIABLE_FILE names, else why it is unreadable."""
    try:
        return (secret_from_env(environ, variable) or "").strip(), None
    except ConfigError as error:
        return "", str(error)


def _missing(check: str, variable: str, t: Catalog) -> Finding:
    return Finding(
        t.text(f"doctor.check.{check}"),
        Outcome.FAILED,
        t.text("doctor.token_missing", variable=variable),
        t.text(f"doctor.fix.{check}_missing"),
    )


def _bot_token(
    token: str, connect: Callable[[str], WebClient], api_url: str | None, t: Catalog
) -> tuple[Finding, str | None]:
    """The bot token's finding, and the bot's user name when the token works."""
    name = t.text("doctor.check.bot_token")
    if not token:
        return _missing("bot_token", "SLACK_BOT_TOKEN", t), None
    if not token.startswith("xoxb-"):
        detail = t.text("doctor.token_shape", variable="SLACK_BOT_TOKEN", prefix="xoxb-")
        return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.bot_token_shape")), None
    answer = _call(connect(token).auth_test)
    if answer.data is None:
        return _slack_failure(name, "bot_token", "auth.test", answer, api_url, t), None
    user = str(answer.data.get("user") or "backupcheck")
    detail = t.text("doctor.bot_token_ok", user=user, team=answer.data.get("team") or "?")
    return Finding(name, Outcome.PASSED, detail), user


def _app_token(
    token: str, connect: Callable[[str], WebClient], api_url: str | None, t: Catalog
) -> Finding:
    name = t.text("doctor.check.app_token")
    if not token:
        return _missing("app_token", "SLACK_APP_TOKEN", t)
    if not token.startswith("xapp-"):
        detail = t.text("doctor.token_shape", variable="SLACK_APP_TOKEN", prefix="xapp-")
        return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.app_token_invalid"))
    # Asks for a Socket Mode URL without connecting to it: the URL simply expires unused.
    answer = _call(lambda: connect(token).apps_connections_open(app_token=token))
    if answer.data is None:
        return _slack_failure(name, "app_token", "apps.connections.open", answer, api_url, t)
    return Finding(name, Outcome.PASSED, t.text("doctor.app_token_ok"))


def _signing_secret(secret: str, t: Catalog) -> Finding:
    if not secret:
        return _missing("signing_secret", "SLACK_SIGNING_SECRET", t)
    # Only Slack's own requests can prove the secret right; the bot checks each one.
    name = t.text("doctor.check.signing_secret")
    return Finding(name, Outcome.PASSED, t.text("doctor.signing_secret_ok"))


def _slack_failure(
    name: str, check: str, method: str, answer: _Answer, api_url: str | None, t: Catalog
) -> Finding:
    if answer.unreachable is not None:
        url = api_url or DEFAULT_API_URL
        detail = t.text("doctor.slack_unreachable", url=url, reason=answer.unreachable)
        return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.slack_unreachable"))
    error = answer.error or "unknown_error"
    detail = t.text("doctor.slack_refused", error=error)
    if error in BAD_TOKEN_ERRORS:
        return Finding(name, Outcome.FAILED, detail, t.text(f"doctor.fix.{check}_invalid"))
    return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.slack_error", method=method))


def _channel(
    name: str, channel: str, bot: str, client: WebClient, api_url: str | None, t: Catalog
) -> Finding:
    """Whether the bot is in the channel; without channels:read, conversations.history tells."""
    info = _call(lambda: client.conversations_info(channel=channel))
    member: bool | None = None
    where = channel
    if info.data is not None:
        found = info.data.get("channel") or {}
        where = f"#{found.get('name')} ({channel})" if found.get("name") else channel
        member = bool(found.get("is_member"))
    elif info.error == "missing_scope":
        # The app manifest asks for channels:history, not channels:read; reading one message
        # fails with not_in_channel exactly when the bot is not a member.
        history = _call(lambda: client.conversations_history(channel=channel, limit=1))
        if history.data is not None or history.error == "not_in_channel":
            member = history.data is not None
        else:
            info = history
    if member is True:
        return Finding(name, Outcome.PASSED, t.text("doctor.channel_member", where=where))
    if member is False:
        detail = t.text("doctor.channel_not_member", where=where)
        return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.channel_invite", bot=bot))
    if info.error == "channel_not_found":
        detail = t.text("doctor.channel_not_found", channel=channel)
        return Finding(name, Outcome.FAILED, detail, t.text("doctor.fix.channel_not_found"))
    return _slack_failure(name, "channel", "conversations.info", info, api_url, t)
