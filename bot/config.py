"""The configuration file: one YAML document, validated strictly, with clear errors."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from checks.i18n import Lang
from checks.snapshot import describe_validation_error

CONFIG_ENV = "BACKUPCHECK_CONFIG"


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one sentence naming the place."""


class Config(BaseModel):
    """Every setting of backupcheck; each has a default, so an empty file is valid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Lang = "en"


def load_config(path: Path | None) -> Config:
    """Read the config from path, else from $BACKUPCHECK_CONFIG, else use the defaults."""
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
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
    first = error.errors()[0]
    sentence = describe_validation_error(error, f"the config file {path}")
    if first["type"] == "extra_forbidden":
        unknown = str(first["loc"][-1])
        choices = _field_names(first["loc"][:-1])
        close = difflib.get_close_matches(unknown, choices, n=1)
        if close:
            sentence = sentence.rstrip(".") + f"; did you mean {close[0]!r}?"
    return sentence


def _field_names(parent: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in parent:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
