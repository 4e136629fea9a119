"""The configuration file: one YAML document, validated strictly, with clear errors."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config_file import ConfigError as ConfigError
from bot.config_file import load_yaml, read_secret_file, read_text
from bot.config_overrides import CONFIG_ENV as CONFIG_ENV
from bot.config_overrides import FILE_SUFFIX, env_overrides, field_names, place
from checks.i18n import Lang
from checks.inventory import SERVER_NAME_PATTERN, Inventory, TimeOfDay, Weekday
from checks.snapshot import describe_validation_error, primary_error

DEFAULT_CONFIG = Path("backupcheck.yaml")
_SERVER_NAME = re.compile(SERVER_NAME_PATTERN)


# Slack IDs end up inside mentions (`<@U…>`, `<!subteam^S…>`) and API calls, so they are IDs
# and nothing else: a name or stray `>` would post text of the config's choosing.
UserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{1,31}$")]
UsergroupId = Annotated[str, Field(pattern=r"^S[A-Z0-9]{1,31}$")]
ChannelId = Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{1,31}$")]
# A Web API base URL: scheme, host, optional port and path; no user name or password (they
# would be logged with the URL), no query or fragment.
API_URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"
# A monitor's push URL: the same, plus a query (Uptime Kuma's ?status=up&msg=OK).
PUSH_URL_PATTERN = API_URL_PATTERN[:-1] + r"(\?[A-Za-z0-9._~%&=+-]*)?$"


class SlackSettings(BaseModel):
    """How the bot talks to Slack, and who may use it. Tokens come from the environment."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    # GovSlack and test stand-ins have their own Web API base URL; $SLACK_API_URL overrides it.
    api_url: str | None = Field(default=None, pattern=API_URL_PATTERN)
    mode: Literal["socket", "http"] = "socket"
    http_port: int = Field(default=3000, ge=1, le=65535)
    # Every IPv4 interface, as before; 127.0.0.1 behind a reverse proxy on the same host.
    http_host: str = Field(default="0.0.0.0", pattern=r"^[A-Za-z0-9.:-]{1,253}$")  # noqa: S104
    command: str = Field(default="/backupcheck", pattern=r"^/[a-z0-9_-]{1,31}$")
    # Empty lists mean everyone in the workspace may run checks.
    allowed_users: list[UserId] = Field(default_factory=list)
    allowed_usergroups: list[UsergroupId] = Field(default_factory=list)
    allowed_channels: list[ChannelId] = Field(default_factory=list)
    use_user_locale: bool = True
    check_workers: int = Field(default=8, ge=1, le=256)
    # Jobs waiting for a check worker; beyond it, commands are told to try again in a minute.
    check_queue_limit: int = Field(default=100, ge=1, le=10_000)
    # `backupcheck health` (and Docker's HEALTHCHECK) asks the running bot here; 0 turns it off.
    health_port: int = Field(default=8080, ge=0, le=65535)


class StorageSettings(BaseModel):
    """Where alerts, their history and the outbox live."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    # A SQLite file by default; PostgreSQL as postgresql+psycopg://user@host/db.
    url: str = "sqlite:///backupcheck.db"


class AlertSettings(BaseModel):
    """Scheduled checks and their alerts: where they go, when they escalate, who may act."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    # No channel: `serve` still answers slash commands but schedules no checks.
    channel: ChannelId | None = None
    min_severity: Literal["warning", "unknown", "critical"] = "warning"
    escalate_after_min: int = Field(default=30, ge=1, le=24 * 60)
    escalate_before_window_min: int = Field(default=10, ge=0, le=24 * 60)
    recheck_before_min: int = Field(default=15, ge=1, le=24 * 60)
    on_call_usergroup: UsergroupId | None = None
    on_call_users: list[UserId] = Field(default_factory=list)
    escalation_channel: ChannelId | None = None
    # Who may acknowledge, escalate and silence; all empty: whoever may run checks.
    responder_users: list[UserId] = Field(default_factory=list)
    responder_usergroups: list[UsergroupId] = Field(default_factory=list)
    edit_interval_s: float = Field(default=5.0, ge=0, le=600)
    digest_threshold: int = Field(default=10, ge=2, le=10_000)
    jitter_s: int = Field(default=120, ge=0, le=3600)
    misfire_grace_min: int = Field(default=30, ge=0, le=24 * 60)
    retention_days: int = Field(default=90, ge=1, le=3650)
    scheduler_workers: int = Field(default=8, ge=1, le=256)
    # Replicas on one database: a running check's claim, renewed every third of this; a dead
    # replica's checks are taken over once it ends.
    lease_s: int = Field(default=60, ge=10, le=3600)
    # SIGTERM: running checks may finish within this; then their leases go to the other
    # replicas, the outbox is flushed while it lasts, and the process exits.
    shutdown_grace_s: int = Field(default=20, ge=0, le=600)
    # The dead man's switch, called after each scheduling round; a secret (its path is a token).
    heartbeat_url: str | None = Field(default=None, pattern=PUSH_URL_PATTERN, max_length=2000)


class VerifySettings(BaseModel):
    """After each backup window: reading the server until its backup finished, and the verdict."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    enabled: bool = True
    # The first reading, this long after the window starts; then one every `every_min`.
    delay_min: int = Field(default=10, ge=0, le=24 * 60)
    every_min: int = Field(default=5, ge=1, le=24 * 60)
    # Windows Server Backup jobs can run for hours; past this, the verdict is "still running".
    timeout_min: int = Field(default=360, ge=10, le=7 * 24 * 60)
    # A backup that succeeded with no alert open for its window is posted too.
    post_success: bool = False


class ForecastSettings(BaseModel):
    """Survey checks that keep each server's free-space history, and the morning forecast alert."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    # Off: no survey checks and no forecast alerts (the lead-time checks still record history).
    enabled: bool = True
    survey_every_h: int = Field(default=6, ge=1, le=7 * 24)
    notify_at: TimeOfDay = "09:30"
    days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    horizon_days: int = Field(default=7, ge=1, le=30)


class SummarySettings(BaseModel):
    """The weekly summary posted in Slack: off unless `weekly_at` is set."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    # A weekday and a 24-hour time, such as "Mon 09:00", in `timezone`.
    weekly_at: str | None = Field(
        default=None, pattern=r"^(?i:mon|tue|wed|thu|fri|sat|sun) +([01][0-9]|2[0-3]):[0-5][0-9]$"
    )
    timezone: str = "UTC"
    # Where it goes; none: alerts.channel.
    channel: ChannelId | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            raise ValueError("this is not a known IANA time zone, such as Asia/Tokyo") from None
        return value


class Config(Inventory):
    """Every setting of backupcheck; each has a default, so an empty file is valid."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    language: Lang = "en"
    # json: one JSON object per line, with host, check and alert ids, for log collectors.
    log_format: Literal["text", "json"] = "text"
    slack: SlackSettings = SlackSettings()
    storage: StorageSettings = StorageSettings()
    alerts: AlertSettings = AlertSettings()
    verify: VerifySettings = VerifySettings()
    forecast: ForecastSettings = ForecastSettings()
    summary: SummarySettings = SummarySettings()


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read path, else $BACKUPCHECK_CONFIG, else ./backupcheck.yaml (without any, the defaults),
    then apply the BACKUPCHECK_* overrides of environ (default: os.environ)."""
    env = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    document = _read_document(path) if path is not None else {}
    overrides = env_overrides(env, Config)
    for override in overrides:
        place(document, override)
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        sources = {override.loc: override.variable for override in overrides}
        raise ConfigError(_explain(error, path, sources, document)) from None


def _read_document(path: Path) -> dict[str, Any]:
    what = f"the config file {path}"
    document = load_yaml(read_text(path, what), what) or {}
    if not isinstance(document, dict):
        raise ConfigError(f"{what} must be a mapping of settings.")
    return document


# --- secrets from the environment --------------------------------------------------------------


def secret_from_env(environ: Mapping[str, str], name: str) -> str | None:
    """$name, else the content of the file $name_FILE names (Docker secrets); None without
    either. An empty variable counts as unset; setting both is a ConfigError."""
    value = environ.get(name) or None
    file_variable = name + FILE_SUFFIX
    file = environ.get(file_variable) or None
    if value is not None and file is not None:
        raise ConfigError(f"both {name} and {file_variable} are set; set only one of them.")
    if file is not None:
        return read_secret_file(file_variable, Path(file))
    return value


# --- errors ------------------------------------------------------------------------------------


def _explain(
    error: ValidationError,
    path: Path | None,
    sources: Mapping[tuple[str, ...], str],
    document: Mapping[str, Any],
) -> str:
    first = primary_error(error)
    loc = tuple(str(part) for part in first["loc"])
    variable = next((v for at, v in sources.items() if loc[: len(at)] == at), None)
    if variable is not None:
        what = f"the environment variable {variable}"
    else:
        what = f"the config file {path}" if path is not None else "the configuration"
        if not loc and sources:
            # A rule across settings: an override may be what broke it.
            what += f" (with {', '.join(sources.values())})"
        what += _server_named(first["loc"], document)
    hint = ""
    if first["type"] == "extra_forbidden":
        unknown = str(first["loc"][-1])
        close = difflib.get_close_matches(unknown, field_names(Config, first["loc"][:-1]), n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
    return describe_validation_error(error, what, hint).replace("?.", "?")


def _server_named(loc: tuple[int | str, ...], document: Mapping[str, Any]) -> str:
    """ " (server fs01)" when the error is in a server entry whose name is valid: an index alone
    makes people count entries."""
    if len(loc) < 2 or loc[0] != "servers" or not isinstance(loc[1], int):
        return ""
    servers = document.get("servers")
    entry = servers[loc[1]] if isinstance(servers, list) and loc[1] < len(servers) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and _SERVER_NAME.fullmatch(name):
        return f" (server {name})"
    return ""
