"""Fixtures shared by every test: snapshots, catalogs, a fixed clock, and simulated hosts."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.i18n import catalog
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.snapshot import Snapshot, parse_snapshot
from tests.support.fleet import SimulatedFleet
from tests.support.fleet_profiles import HostProfile, load_profiles
from tests.support.slack_api import SlackStandIn

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


USER = "svc-backupcheck"
PASSWORD = "Corr3ct-Horse-Battery"  # noqa: S105 - the simulated hosts' throwaway password
ENVIRON = {"BACKUPCHECK_WINRM_PASSWORD": PASSWORD}
PROFILES: dict[str, HostProfile] = load_profiles(FIXTURES / "hosts")
# Short enough to keep the tests quick, long enough for a loaded CI machine.
TIMEOUTS = {"connect_timeout_s": 2, "operation_timeout_s": 1, "read_timeout_s": 3, "deadline_s": 8}


@pytest.fixture(scope="session")
def fleet() -> Iterator[SimulatedFleet]:
    """Every profiled host, speaking NTLM (with message encryption) and Basic over http."""
    with SimulatedFleet(PROFILES, users={USER: PASSWORD}) as running:
        yield running
        assert running.errors == []


@pytest.fixture(scope="session")
def tls_fleet() -> Iterator[SimulatedFleet]:
    """The same hosts over https, with a certificate from a CA made for the test."""
    with SimulatedFleet(PROFILES, users={USER: PASSWORD}, tls=True) as running:
        yield running
        assert running.errors == []


def inventory_for(fleet: SimulatedFleet, names: list[str], **settings: Any) -> Inventory:
    """An inventory whose servers are the fleet's hosts, reached at their loopback addresses."""
    servers = []
    for name in names:
        address, port = fleet.address_of(name)
        servers.append({"name": name, "address": address, "port": port, **settings})
    return Inventory.model_validate(
        {
            "defaults": {
                "credential": "reader",
                "scheme": "https" if fleet.tls else "http",
                **TIMEOUTS,
            },
            "credentials": {
                "reader": {"username": USER, "password_env": "BACKUPCHECK_WINRM_PASSWORD"}
            },
            "servers": servers,
        }
    )


@pytest.fixture
def server_of() -> Callable[..., Server]:
    """The resolved Server entry for one fleet host, with optional setting overrides."""

    def make(fleet: SimulatedFleet, name: str, **settings: Any) -> Server:
        (server,) = inventory_for(fleet, [name], **settings).resolved()
        return server

    return make


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    """A loopback Slack: Web API, response URLs and Socket Mode."""
    with SlackStandIn() as server:
        yield server
    assert not server.errors
    assert not server.socket.errors


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backupcheck.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of its own, dropped afterwards."""
    schema = f"bc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
