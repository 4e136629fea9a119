"""Fixtures shared by every test: recorded snapshots, catalogs and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.i18n import catalog
from checks.i18n import Catalog
from checks.snapshot import Snapshot, parse_snapshot

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOT_FILES = sorted((FIXTURES / "snapshots").glob("*.json"))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """The moment every test pretends it is."""
    return NOW


@pytest.fixture
def load_snapshot() -> Callable[[str], Snapshot]:
    """Loads tests/fixtures/snapshots/<name>.json."""

    def load(name: str) -> Snapshot:
        return parse_snapshot((FIXTURES / "snapshots" / f"{name}.json").read_bytes())

    return load


@pytest.fixture
def en() -> Catalog:
    """The English catalog."""
    return catalog("en")


@pytest.fixture
def ja() -> Catalog:
    """The Japanese catalog."""
    return catalog("ja")
