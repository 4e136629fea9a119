"""The configuration file: one YAML document, validated strictly, with clear errors."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checks.i18n import Lang
from checks.inventory import Inventory
from checks.snapshot import describe_validation_error, primary_error

CONFIG_ENV = "BACKUPCHECK_CONFIG"
DEFAULT_CONFIG = Path("backupcheck.yaml")
# BACKUPCHECK_<SECTION>__<KEY> or BACKUPCHECK_<KEY> overrides a setting; <NAME>_FILE reads it
# from a file instead (Docker secrets).
ENV_PREFIX = "BACKUPCHECK_"
FILE_SUFFIX = "_FILE"
# A near miss of a top-level setting is a typo; anything further is someone else's variable
# (credential variables such as BACKUPCHECK_WINRM_PASSWORD, Kubernetes service links).
TOP_LEVEL_TYPO_CUTOFF = 0.8


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one sentence naming the place."""


class SlackSettings(BaseModel):
    """How the bot talks to Slack, and who may use it. Tokens come from the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    # GovSlack and test stand-ins have their own Web API base URL; $SLACK_API_URL overrides it.
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    mode: Literal["socket", "http"] = "socket"
    http_port: int = Field(default=3000, ge=1, le=65535)
    # Every IPv4 interface, as before; 127.0.0.1 behind a reverse proxy on the same host.
    http_host: str = Field(default="0.0.0.0", pattern=r"^[A-Za-z0-9.:-]{1,253}$")  # noqa: S104
    command: str = Field(default="/backupcheck", pattern=r"^/[a-z0-9_-]{1,31}$")
    # Empty lists mean everyone in the workspace may run checks.
    allowed_users: list[str] = Field(default_factory=list)
    allowed_usergroups: list[str] = Field(default_factory=list)
    allowed_channels: list[str] = Field(default_factory=list)
    use_user_locale: bool = True
    check_workers: int = Field(default=8, ge=1, le=256)
    # `backupcheck health` (and Docker's HEALTHCHECK) asks the running bot here; 0 turns it off.
    health_port: int = Field(default=8080, ge=0, le=65535)


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
    # json: one JSON object per line, with host, check and alert ids, for log collectors.
    log_format: Literal["text", "json"] = "text"
    slack: SlackSettings = SlackSettings()
    storage: StorageSettings = StorageSettings()
    alerts: AlertSettings = AlertSettings()


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read path, else $BACKUPCHECK_CONFIG, else ./backupcheck.yaml (without any, the defaults),
    then apply the BACKUPCHECK_* overrides of environ (default: os.environ)."""
    env = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    document = _read_document(path) if path is not None else {}
    overrides = env_overrides(env)
    for override in overrides:
        _place(document, override)
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        sources = {override.loc: override.variable for override in overrides}
        raise ConfigError(_explain(error, path, sources)) from None


def _read_document(path: Path) -> dict[str, Any]:
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
    return document


# --- environment overrides ---------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """One setting taken from the environment: which variable set it, where, and its value."""

    variable: str
    loc: tuple[str, ...]
    value: object


def secret_from_env(environ: Mapping[str, str], name: str) -> str | None:
    """$name, else the content of the file $name_FILE names (Docker secrets); None without
    either. An empty variable counts as unset; setting both is a ConfigError."""
    value = environ.get(name) or None
    file_variable = name + FILE_SUFFIX
    file = environ.get(file_variable) or None
    if value is not None and file is not None:
        raise ConfigError(f"both {name} and {file_variable} are set; set only one of them.")
    if file is not None:
        return _read_secret_file(file_variable, Path(file))
    return value


def _read_secret_file(variable: str, path: Path) -> str:
    # The errors name the variable and the path, never a byte of what the file holds.
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(f"cannot read the file {path} that {variable} names: {reason}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the file {path} that {variable} names is not UTF-8 text.") from None
    # `echo` and editors end the file with a newline that is no part of the secret.
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


def env_overrides(environ: Mapping[str, str]) -> list[Override]:
    """Every setting the BACKUPCHECK_* variables of environ override, checked and parsed."""
    targets: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
    for variable in sorted(environ):
        target = _target(variable)
        # An empty variable counts as unset, so compose templates such as ${X:-} are harmless.
        if target is not None and environ[variable]:
            loc, from_file = target
            targets.setdefault(loc, []).append((variable, from_file))
    overrides = []
    for loc, sources in targets.items():
        if len(sources) > 1:
            names = [variable for variable, _ in sources]
            listed = ", ".join(names[:-1]) + f" and {names[-1]}"
            raise ConfigError(
                f"the environment variables {listed} set the same setting {'.'.join(loc)}; "
                "set only one of them."
            )
        ((variable, from_file),) = sources
        raw = environ[variable]
        if from_file:
            raw = _read_secret_file(variable, Path(raw))
        overrides.append(Override(variable, loc, _parse_value(variable, loc, raw)))
    return overrides


def _sections() -> dict[str, type[BaseModel]]:
    """The top-level settings whose keys the environment may set one by one."""
    return {
        name: field.annotation
        for name, field in Config.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def _top_level_scalars() -> list[str]:
    # credentials and servers are structure, not settings: they stay in the file.
    sections = _sections()
    return [
        name
        for name, field in Config.model_fields.items()
        if name not in sections and get_origin(field.annotation) not in (list, dict)
    ]


def _target(variable: str) -> tuple[tuple[str, ...], bool] | None:
    """The setting a variable overrides and whether its value is a file's path; None when the
    variable is no override. Unknown sections and keys raise a ConfigError."""
    upper = variable.upper()
    if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
        return None
    parts = upper.removeprefix(ENV_PREFIX).lower().split("__")
    if len(parts) == 1:
        return _top_level_target(variable, parts[0])
    if len(parts) > 2:
        raise ConfigError(
            f"the environment variable {variable} has too many parts; "
            f"name a setting as {ENV_PREFIX}<SECTION>__<KEY> or {ENV_PREFIX}<KEY>."
        )
    section, key = parts
    sections = _sections()
    if section not in sections:
        if section in Config.model_fields:
            raise ConfigError(
                f"the environment variable {variable} cannot set {section}; "
                "list credentials and servers in the config file."
            )
        guess = _closest(section, list(sections))
        hint = "."
        if guess is not None:
            # Suggest the whole variable: the section corrected, and the key too if it is close.
            fields = _field_names((guess,))
            stem, from_file = _split_file(key, fields)
            stem = stem if stem in fields else _closest(stem, fields) or stem
            hint = f"; did you mean {_variable_for((guess, stem), from_file)}?"
        raise ConfigError(
            f"the environment variable {variable} has an unknown field {section}.{key}{hint}"
        )
    fields = _field_names((section,))
    stem, from_file = _split_file(key, fields)
    if stem in fields:
        return (section, stem), from_file
    guess = _closest(stem, fields)
    hint = f"; did you mean {_variable_for((section, guess), from_file)}?" if guess else "."
    raise ConfigError(
        f"the environment variable {variable} has an unknown field {section}.{key}{hint}"
    )


def _top_level_target(variable: str, key: str) -> tuple[tuple[str, ...], bool] | None:
    scalars = _top_level_scalars()
    stem, from_file = _split_file(key, scalars + list(_sections()))
    if stem in scalars:
        return (stem,), from_file
    if stem in _sections():
        raise ConfigError(
            f"the environment variable {variable} would set the whole section {stem}; "
            f"set its keys one by one, as {ENV_PREFIX}{stem.upper()}__<KEY>."
        )
    guess = _closest(stem, scalars, TOP_LEVEL_TYPO_CUTOFF)
    if guess is None:
        return None
    raise ConfigError(
        f"the environment variable {variable} has an unknown field {key}; "
        f"did you mean {_variable_for((guess,), from_file)}?"
    )


def _split_file(key: str, fields: list[str]) -> tuple[str, bool]:
    """The key without its _file suffix, and whether it had one (a field's own name wins)."""
    suffix = FILE_SUFFIX.lower()
    if key in fields or not key.endswith(suffix):
        return key, False
    return key.removesuffix(suffix), True


def _closest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return close[0] if close else None


def _variable_for(loc: tuple[str, ...], from_file: bool) -> str:
    return ENV_PREFIX + "__".join(loc).upper() + (FILE_SUFFIX if from_file else "")


def _parse_value(variable: str, loc: tuple[str, ...], raw: str) -> object:
    """Text settings take the value verbatim, so a URL or secret is never reinterpreted;
    the others read it as YAML, so `true`, `5` and `[a, b]` work."""
    model: type[BaseModel] = Config if len(loc) == 1 else _sections()[loc[0]]
    if _is_text(model.model_fields[loc[-1]].annotation):
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        # No detail: YAML's message quotes the value.
        raise ConfigError(
            f"the value of {variable} is not valid YAML; quote text and write lists as [a, b]."
        ) from None


def _is_text(annotation: object) -> bool:
    union = get_origin(annotation) in (Union, UnionType)
    kinds = [a for a in (get_args(annotation) if union else (annotation,)) if a is not type(None)]
    return bool(kinds) and all(kind in (str, Path) for kind in kinds)


def _place(document: dict[str, Any], override: Override) -> None:
    """Put an override into the document read from the file; it wins over the file's value."""
    if len(override.loc) == 1:
        document[override.loc[0]] = override.value
        return
    section, key = override.loc
    if document.get(section) is None:
        document[section] = {}
    # A section that is not a mapping is the file's mistake; validation names the file.
    if isinstance(document[section], dict):
        document[section][key] = override.value


# --- errors ------------------------------------------------------------------------------------


def _explain(
    error: ValidationError, path: Path | None, sources: Mapping[tuple[str, ...], str]
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
    hint = ""
    if first["type"] == "extra_forbidden":
        unknown = str(first["loc"][-1])
        close = difflib.get_close_matches(unknown, _field_names(first["loc"][:-1]), n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
    return describe_validation_error(error, what, hint).replace("?.", "?")


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
