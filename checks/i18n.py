"""Message catalogs (one TOML file per language) and locale-aware number and date formatting."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from babel.dates import format_datetime
from babel.numbers import format_decimal

from checks.units import GB, MB

Lang = Literal["en", "ja"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
CHECKS_LOCALES = Path(__file__).with_name("locales")
_BABEL_LOCALE: Mapping[Lang, str] = {"en": "en_US", "ja": "ja_JP"}
TB = 1024 * GB


class MissingMessage(KeyError):
    """A key that a catalog does not define: a bug, caught by the catalog tests."""


@cache
def _read(path: Path) -> Mapping[str, str]:
    with path.open("rb") as handle:
        return _flatten(tomllib.load(handle))


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def catalog_keys(lang: Lang, directories: Iterable[Path] = (CHECKS_LOCALES,)) -> dict[str, str]:
    """Every message of one language, merged from the given locale directories."""
    merged: dict[str, str] = {}
    for directory in directories:
        merged.update(_read(directory / f"{lang}.toml"))
    return merged


def placeholders(template: str) -> set[str]:
    """The {names} a template expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalog:
    """The messages of one language, and how that language writes numbers and dates."""

    def __init__(self, lang: Lang, directories: Iterable[Path] = (CHECKS_LOCALES,)) -> None:
        self.lang: Lang = lang
        self._messages = catalog_keys(lang, tuple(directories))
        self._locale = _BABEL_LOCALE[lang]

    def has(self, key: str) -> bool:
        """Whether the catalog defines this key."""
        return key in self._messages

    def text(self, key: str, **params: object) -> str:
        """The message for key, with its {placeholders} filled in."""
        try:
            template = self._messages[key]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in the {self.lang} catalog") from None
        return template.format(**params)

    def number(self, value: float, pattern: str = "#,##0.#") -> str:
        """A number with this locale's grouping and decimal signs."""
        return str(format_decimal(value, format=pattern, locale=self._locale))

    def size(self, n_bytes: int, *, round_up: bool = False) -> str:
        """Bytes in binary units: whole MB below 1 GB, else GB or TB with one decimal.

        round_up suits amounts someone must free: freeing the shown amount is always enough.
        """
        if n_bytes < GB:
            mb = -(-n_bytes // MB) if round_up else round(n_bytes / MB)
            if mb < 1024:
                return f"{self.number(mb, '#,##0')} MB"
        unit, name = (TB, "TB") if n_bytes >= TB else (GB, "GB")
        value = n_bytes / unit
        if round_up:
            value = -(-int(n_bytes * 10) // unit) / 10
        return f"{self.number(value)} {name}"

    def datetime(self, moment: datetime) -> str:
        """A date and time as this locale writes it, in the moment's own time zone."""
        return str(
            format_datetime(moment, format="medium", tzinfo=moment.tzinfo, locale=self._locale)
        )
