"""`backupcheck doctor`: everything a first run needs, checked and explained one line at a time."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from http.client import HTTPException
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    Config,
    ConfigError,
    load_config,
    secret_from_env,
)
from bot.i18n import catalog
from bot.slack.client import DEFAULT_API_URL, web_client
from checks.collect.errors import CollectError
from checks.diagnose import Diagnosis, backup_installed, unreadable
from checks.i18n import Catalog, Lang
from checks.inventory import Inventory, Server
from checks.report import Status
from checks.snapshot import Snapshot

# Kerberos refuses tickets from a clock more than five minutes off (its default tolerance).
MAX_CLOCK_SKEW = timedelta(minutes=5)
# The doctor waits for Slack less long than the bot does: someone is watching the terminal.
SLACK_TIMEOUT_S = 10
STEPS = ("resolve", "port", "login", "read", "clock")
# Errors raised once the shell runs: the login worked, reading the backup setup did not.
READ_ERRORS = frozenset({"powershell", "bad_output", "probe_timeout"})
# The fix for each collector error (checks/collect/errors.py keys); others get doctor.fix.collect.
COLLECT_FIXES = {
    "auth_failed": "auth_failed",
    "wsman_fault": "wsman_fault",
    "tls_certificate": "tls_certificate",
    "tls_failed": "tls_failed",
    "not_wsman": "not_wsman",
    "http_status": "http_status",
    "http_status_detail": "http_status",
    "probe_timeout": "slow",
    "read_timeout": "slow",
    "connect_timeout": "port_timeout",
    "refused": "port_refused",
    "dropped": "http_status",
    "unresolved": "resolve",
    "no_credential": "no_credential",
    "username_env_missing": "variable",
    "password_env_missing": "variable",
    "password_file_unreadable": "password_file",
    "certificate_needs_https": "certificate_needs_https",
    "powershell": "powershell",
    "bad_output": "bad_output",
}
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


class Outcome(StrEnum):
    """How one check went."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's output: what was checked, what was found and how to fix it."""

    name: str
    outcome: Outcome
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing needs fixing (a skipped check needs nothing either)."""
        return self.outcome is not Outcome.FAILED


# --- the config file ---------------------------------------------------------------------------


def config_source(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file load_config reads: path, else $BACKUPCHECK_CONFIG, else ./backupcheck.yaml."""
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    return path


def check_config(
    path: Path | None, environ: Mapping[str, str], lang: Lang | None
) -> tuple[Config | None, Catalog, list[Finding]]:
    """The config (None when it does not parse), the catalog to speak (lang, else the
    config's language) and what is wrong with the config, if anything."""
    source = config_source(path, environ)
    try:
        config = load_config(source, environ)
    except ConfigError as error:
        t = catalog(lang or "en")
        name = t.text("doctor.check.config")
        return None, t, [Finding(name, Outcome.FAILED, str(error), t.text("doctor.fix.config"))]
    t = catalog(lang or config.language)
    name = t.text("doctor.check.config")
    if source is None:
        missing = t.text("doctor.config_missing", variable=CONFIG_ENV, default=DEFAULT_CONFIG)
        fix = t.text("doctor.fix.config_missing")
        return config, t, [Finding(name, Outcome.FAILED, missing, fix)]
    count = len(config.servers)
    findings = [Finding(name, Outcome.PASSED, t.text("doctor.config_ok", path=source, count=count))]
    if not count:
        findings.append(
            Finding(
                t.text("doctor.check.servers"),
                Outcome.FAILED,
                t.text("doctor.no_servers"),
                t.text("doctor.fix.no_servers"),
            )
        )
    return config, t, findings


# --- Slack -------------------------------------------------------------------------------------


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


def slack_skipped(t: Catalog) -> Finding:
    """The one line that stands for every Slack check under --no-slack."""
    return Finding(t.text("doctor.check.slack"), Outcome.SKIPPED, t.text("doctor.no_slack"))


# --- servers -----------------------------------------------------------------------------------


def clock_skew(diagnosis: Diagnosis) -> timedelta | None:
    """How far the server's clock is off ours (positive: ahead); None when it was not read.

    Zero while the server's time falls between sending the probe and receiving its answer.
    """
    snapshot, sent, received = diagnosis.snapshot, diagnosis.sent_at, diagnosis.received_at
    if snapshot is None or sent is None or received is None:
        return None
    # The probe writes whole seconds, so its time may read up to a second early.
    earliest = sent.replace(microsecond=0)
    if snapshot.collected_at < earliest:
        return snapshot.collected_at - earliest
    if snapshot.collected_at > received:
        return snapshot.collected_at - received
    return timedelta(0)


@dataclass(frozen=True)
class _Login:
    """Who the server is logged on as, and where the password comes from, for messages."""

    user: str
    source: str


def _login_of(
    server: Server, inventory: Inventory, environ: Mapping[str, str], t: Catalog
) -> _Login:
    profile = inventory.credentials.get(server.credential) if server.credential else None
    if profile is None:
        return _Login("?", "?")
    user = profile.username or environ.get(profile.username_env or "", "") or "?"
    if profile.password_env is not None:
        source = t.text("doctor.source_env", variable=profile.password_env)
    elif profile.password_file is not None:
        source = t.text("doctor.source_file", path=profile.password_file)
    else:
        source = t.text("doctor.source_profile", name=server.credential)
    return _Login(user, source)


def server_findings(
    diagnosis: Diagnosis, inventory: Inventory, environ: Mapping[str, str], t: Catalog
) -> list[Finding]:
    """One finding per step; after the first failure the later steps are skipped."""
    server = diagnosis.server
    login = _login_of(server, inventory, environ, t)
    findings: list[Finding] = []
    for step in STEPS:
        name = t.text(f"doctor.step.{step}", server=server.name)
        if findings and findings[-1].outcome is not Outcome.PASSED:
            findings.append(Finding(name, Outcome.SKIPPED, t.text("doctor.skipped")))
        elif diagnosis.internal_error is not None:
            detail = t.text("doctor.internal", kind=diagnosis.internal_error)
            findings.append(Finding(name, Outcome.FAILED, detail))
        else:
            outcome, detail, fix = _judge(step, diagnosis, login, t)
            findings.append(Finding(name, outcome, detail, fix))
    return findings


def _judge(step: str, d: Diagnosis, login: _Login, t: Catalog) -> tuple[Outcome, str, str | None]:
    server = d.server
    where = f"[{d.connected_to}]" if d.connected_to and ":" in d.connected_to else d.connected_to
    params = {
        "server": server.name,
        "address": server.address,
        "port": server.port,
        "where": f"{where or server.address}:{server.port}",
        "user": login.user,
        "source": login.source,
        "seconds": f"{server.connect_timeout_s:g}",
    }
    error = d.collect_error
    if step == "resolve":
        if d.resolve_error is not None:
            detail = t.text("doctor.resolve_failed", reason=d.resolve_error, **params)
            return Outcome.FAILED, detail, t.text("doctor.fix.resolve", **params)
        if _is_ip(server.address):
            return Outcome.PASSED, t.text("doctor.resolve_ip", **params), None
        found = ", ".join(d.addresses or ())
        return Outcome.PASSED, t.text("doctor.resolve_ok", addresses=found, **params), None
    if step == "port":
        failure = d.connect_failure
        if failure is None:
            return Outcome.PASSED, t.text("doctor.port_ok", **params), None
        detail = t.text(f"doctor.port_{failure.kind}", reason=failure.reason, **params)
        return Outcome.FAILED, detail, t.text(f"doctor.fix.port_{failure.kind}", **params)
    if step == "login":
        if error is not None and error.key not in READ_ERRORS:
            return Outcome.FAILED, error.text(t), _collect_fix(error, params, t)
        ok = t.text("doctor.login_ok", transport=server.transport, **params)
        return Outcome.PASSED, ok, None
    if step == "read" and error is not None:
        return Outcome.FAILED, error.text(t), _collect_fix(error, params, t)
    skew = clock_skew(d)
    if d.snapshot is None or skew is None:
        # Cannot happen once the login passed: the probe answered with a snapshot.
        return Outcome.FAILED, t.text("doctor.internal", kind="NoSnapshot"), None
    if step == "read":
        return _judge_read(d.snapshot, params, t)
    return _judge_clock(skew, t)


def _judge_read(
    snapshot: Snapshot, params: Mapping[str, object], t: Catalog
) -> tuple[Outcome, str, str | None]:
    problems = unreadable(snapshot)
    if problems:
        detail = t.text("doctor.read_failed", what="; ".join(problems))
        return Outcome.FAILED, detail, t.text("doctor.fix.read", **params)
    if not backup_installed(snapshot):
        return Outcome.PASSED, t.text("doctor.read_no_wsb"), None
    if snapshot.backup is None:
        return Outcome.PASSED, t.text("doctor.read_no_policy"), None
    return Outcome.PASSED, t.text("doctor.read_ok"), None


def _judge_clock(skew: timedelta, t: Catalog) -> tuple[Outcome, str, str | None]:
    if abs(skew) <= MAX_CLOCK_SKEW:
        seconds = t.number(abs(skew).total_seconds(), "#,##0")
        return Outcome.PASSED, t.text("doctor.clock_ok", seconds=seconds), None
    minutes = t.number(abs(skew).total_seconds() / 60, "#,##0")
    key = "doctor.clock_ahead" if skew > timedelta(0) else "doctor.clock_behind"
    return Outcome.FAILED, t.text(key, minutes=minutes), t.text("doctor.fix.clock")


def _collect_fix(error: CollectError, params: Mapping[str, object], t: Catalog) -> str:
    fix = COLLECT_FIXES.get(error.key, "collect")
    return t.text(f"doctor.fix.{fix}", **{**params, **error.params})


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


# --- the verdict -------------------------------------------------------------------------------


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when nothing needs fixing, else CRITICAL's 2 (a broken config exits 3 before this)."""
    return Status.OK.exit_code if all(f.ok for f in findings) else Status.CRITICAL.exit_code


def summary(findings: Sequence[Finding], t: Catalog) -> str:
    """The last line: all good, or how many problems there are to fix."""
    failed = sum(not f.ok for f in findings)
    return t.text("doctor.summary_failed", count=failed) if failed else t.text("doctor.summary_ok")
