"""docs/configuration.md and the example config stay complete: every setting is in both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from bot.config import Config

ROOT = Path(__file__).parents[1]
REFERENCE = ROOT / "docs" / "configuration.md"
EXAMPLE = ROOT / "config" / "backupcheck.example.yaml"


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The settings model a field holds: itself, or the item of a list or dict of models."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _settings(model: type[BaseModel], section: str | None = None) -> Iterator[tuple[str, str]]:
    """Every (top-level section, key) of the config, walking the models from Config down."""
    for name, field in model.model_fields.items():
        top = section or name
        yield top, name
        inner = _model_in(field.annotation)
        if inner is not None:
            yield from _settings(inner, top)


SETTINGS = sorted(set(_settings(Config)))


def _reference_sections() -> dict[str, str]:
    """The reference's text under each "## `section`" heading."""
    parts = re.split(r"^## ", REFERENCE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    sections = {}
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        found = re.fullmatch(r"`([a-z_]+)`", heading.strip())
        if found:
            sections[found[1]] = body
    return sections


def test_the_walk_reaches_nested_settings() -> None:
    # Guards the walk itself: sections, dict items (credentials) and list items (servers).
    assert {("slack", "mode"), ("credentials", "password_file"), ("servers", "address")} <= set(
        SETTINGS
    )
    assert ("defaults", "backup_days") in SETTINGS


@pytest.mark.parametrize(("section", "key"), SETTINGS, ids=lambda v: str(v))
def test_every_setting_is_in_the_reference(section: str, key: str) -> None:
    sections = _reference_sections()
    assert section in sections, f"docs/configuration.md has no '## `{section}`' section"
    # A top-level setting is its own section, so its heading is its entry; a nested one must be
    # named in its section.
    if key != section:
        assert f"`{key}`" in sections[section], f"docs/configuration.md lacks {section}.{key}"


@pytest.mark.parametrize("key", sorted({key for _, key in SETTINGS}))
def test_every_setting_is_in_the_example_config(key: str) -> None:
    # As a key, possibly commented out: `key:` not preceded by part of another name.
    text = EXAMPLE.read_text(encoding="utf-8")
    assert re.search(rf"(?<![\w.-]){re.escape(key)}:(\s|$)", text, re.MULTILINE), (
        f"config/backupcheck.example.yaml does not show {key}"
    )


def test_the_reference_names_every_kind_of_override() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for needle in (
        "BACKUPCHECK_CONFIG",
        "BACKUPCHECK_<SECTION>__<KEY>",
        "BACKUPCHECK_STORAGE__URL_FILE",
        "SLACK_BOT_TOKEN_FILE",
        "SLACK_APP_TOKEN_FILE",
        "SLACK_SIGNING_SECRET_FILE",
        "did you mean",
    ):
        assert needle in text
