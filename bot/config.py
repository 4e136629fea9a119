"""The configuration file: one YAML document, validated strictly, with clear errors."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checks.i18n import Lang
from checks.inventory import Inventory
from checks.snapshot import describe_validation_error, primary_error

CONFIG_ENV = "BACKUPCHECK_CONFIG"
DEFAULT_CONFIG = Path("backupcheck.yaml")


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one sentence naming the place."""


class SlackSettings(BaseModel):
    """How the bot talks to Slack, and who may use it. Tokens come from the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    # GovSlack and test stand-ins have their own Web API base URL; $SLACK_API_URL overrides it.
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    mode: Literal["socket", "http"] = "socket"
    http_port: int = Field(default=3000, ge=1, le=65535)
    command: str = Field(default="/backupcheck", pattern=r"^/[a-z0-9_-]{1,31}$")
    # Empty lists mean everyone in the workspace may run checks.
    allowed_users: list[str] = Field(default_factory=list)
    allowed_usergroups: list[str] = Field(default_factory=list)
    allowed_channels: list[str] = Field(default_factory=list)
    use_user_locale: bool = True
    check_workers: int = Field(default=8, ge=1, le=256)


class StorageSettings(BaseModel):
    """Where alerts, their history and the outbox live."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    # A SQLite file by default; PostgreSQL as postgresql+psycopg://user@host/db.
    url: str = "sqlite:///backupcheck.db"


class AlertSettings(BaseModel):
    """Scheduled checks and their alerts: where they go, when they escalate, who may act."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    # No channel: `serve` still answers slash commands but schedules no checks.
    channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")
    min_severity: Literal["warning", "unknown", "critical"] = "warning"
    escalate_after_min: int = Field(default=30, ge=1, le=24 * 60)
    escalate_before_window_min: int = Field(default=10, ge=0, le=24 * 60)
    recheck_before_min: int = Field(default=15, ge=1, le=24 * 60)
    on_call_usergroup: str | None = Field(default=None, pattern=r"^S[A-Z0-9]{2,}$")
    on_call_users: list[str] = Field(default_factory=list)
    escalation_channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")
    # Who may acknowledge, escalate and silence; all empty: whoever may run checks.
    responder_users: list[str] = Field(default_factory=list)
    responder_usergroups: list[str] = Field(default_factory=list)
    edit_interval_s: float = Field(default=5.0, ge=0, le=600)
    digest_threshold: int = Field(default=10, ge=2, le=10_000)
    jitter_s: int = Field(default=120, ge=0, le=3600)
    misfire_grace_min: int = Field(default=30, ge=0, le=24 * 60)
    retention_days: int = Field(default=90, ge=1, le=3650)
    scheduler_workers: int = Field(default=8, ge=1, le=256)


class Config(Inventory):
    """Every setting of backupcheck; each has a default, so an empty file is valid."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    language: Lang = "en"
    slack: SlackSettings = SlackSettings()
    storage: StorageSettings = StorageSettings()
    alerts: AlertSettings = AlertSettings()


def load_config(path: Path | None) -> Config:
    """Read path, else $BACKUPCHECK_CONFIG, else ./backupcheck.yaml; without any, the defaults."""
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror}.") from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise ConfigError(f"the config file {path} is not valid YAML{where}: {problem}.") from None
    if not isinstance(document, dict):
        raise ConfigError(f"the config file {path} must be a mapping of settings.")
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_explain(error, path)) from None


def _explain(error: ValidationError, path: Path) -> str:
    first = primary_error(error)
    hint = ""
    if first["type"] == "extra_forbidden":
        unknown = str(first["loc"][-1])
        close = difflib.get_close_matches(unknown, _field_names(first["loc"][:-1]), n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
    return describe_validation_error(error, f"the config file {path}", hint).replace("?.", "?")


def _field_names(parent: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at a location, for "did you mean" suggestions."""
    node: object = Config
    for part in parent:
        if isinstance(node, type) and issubclass(node, BaseModel):
            if str(part) not in node.model_fields:
                return []
            node = node.model_fields[str(part)].annotation
        else:
            # list[Model] is indexed by position, dict[str, Model] by key: step into the item type.
            node = get_args(node)[-1] if get_args(node) else None
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []
