"""What every command shares: the options, their choices, and loading the config they name."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.config import Config, ConfigError, load_config
from bot.i18n import catalog
from bot.terminal.console import fail
from checks.i18n import Catalog, Lang


class OutputFormat(StrEnum):
    """How a report is printed."""

    TABLE = "table"
    JSON = "json"
    NAGIOS = "nagios"


class LangChoice(StrEnum):
    """The languages backupcheck speaks."""

    EN = "en"
    JA = "ja"


class SchemaName(StrEnum):
    """The data contracts whose JSON Schema can be printed."""

    SNAPSHOT = "snapshot"
    REPORT = "report"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $BACKUPCHECK_CONFIG).", dir_okay=False
    ),
]
LangOption = Annotated[
    LangChoice | None,
    typer.Option("--lang", help="Language of the output (default: the config's language)."),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="table for people, json for Report v1, nagios for monitoring."
    ),
]


class ServeMode(StrEnum):
    """How the bot connects to Slack."""

    SOCKET = "socket"
    HTTP = "http"


def load_catalog(lang: LangChoice | None, config_path: Path | None) -> Catalog:
    """The catalog to speak: --lang, else the config's language."""
    return load_settings(lang, config_path)[1]


def load_settings(lang: LangChoice | None, config_path: Path | None) -> tuple[Config, Catalog]:
    """The config, or one sentence and exit 3; and the catalog to speak."""
    try:
        config = load_config(config_path)
    except ConfigError as error:
        fail(str(error))
    chosen: Lang = lang.value if lang else config.language
    return config, catalog(chosen)
