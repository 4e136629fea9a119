"""The catalogs the application speaks: the engine's messages plus the CLI's and Slack's."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from checks.i18n import CHECKS_LOCALES, Catalog, Lang

BOT_LOCALES = Path(__file__).with_name("locales")
LOCALE_DIRECTORIES = (CHECKS_LOCALES, BOT_LOCALES)


@cache
def catalog(lang: Lang) -> Catalog:
    """The full catalog for one language (built once; catalogs are read-only)."""
    return Catalog(lang, LOCALE_DIRECTORIES)
