"""Message catalogs (one TOML file per language) and locale-aware number and date formatting."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo

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

    def datetime(self, moment: datetime, zone: tzinfo | str | None = None) -> str:
        """A date and time as this locale writes it, with its zone's label: in `zone` (a tzinfo
        or an IANA name) when given, else in the moment's own zone (UTC when it has none).

        Every renderer shows times through here, so the terminal and Slack agree."""
        shown = in_zone(moment, zone)
        text = format_datetime(shown, format="medium", tzinfo=shown.tzinfo, locale=self._locale)
        return f"{text} {zone_label(shown)}"


def in_zone(moment: datetime, zone: tzinfo | str | None = None) -> datetime:
    """The same instant in `zone` (an IANA name or a tzinfo); a naive moment is taken as UTC."""
    aware = moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)
    if zone is None:
        return aware
    return aware.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)


def zone_label(moment: datetime) -> str:
    """The zone of an aware moment as people read it: its abbreviation (JST, EST, CEST, UTC), or
    its offset in parentheses, (UTC+05:45), where the zone has no letters for it (tzdata writes
    Dubai's as +04) or only an offset is known (a server reports its time with one)."""
    name = moment.tzname() or ""
    if name.isascii() and name.isalpha():
        return name
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = abs(offset) // timedelta(minutes=1)
    sign = "+" if offset > timedelta(0) else "-"
    return f"(UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
