"""docker-compose.yml runs PostgreSQL and two bot replicas on it, with secrets from the
environment. No Docker engine runs here, so the file is parsed as YAML and read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import AlertSettings, load_config
from tests.test_dockerfile import CONFIG_PATH, _seconds

ROOT = Path(__file__).parents[1]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "BACKUPCHECK_WINRM_PASSWORD")
# `${NAME}`, `${NAME:?message}`, `${NAME-default}`, ...: Compose's interpolation.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<modifier>[:?\-+][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()}


def _bots(services: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in services.values() if s.get("build") is not None]


def _postgres(services: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (name, service)
        for name, service in services.items()
        if str(service.get("image", "")).startswith("postgres")
    ]
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as a mapping, whichever of Compose's two forms it uses."""
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(entry.partition("=")[::2] for entry in environment)
    return {name: str(value) for name, value in environment.items()}


def _interpolate(value: str, environ: dict[str, str]) -> str:
    return VARIABLE.sub(lambda match: environ[match["name"]], value)


def _named_volume(service: dict[str, Any], target: str) -> str:
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            return source
    raise AssertionError(f"nothing is mounted at {target}")


def test_postgres_keeps_its_data_on_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    _, postgres = _postgres(services)
    volume = _named_volume(postgres, "/var/lib/postgresql/data")
    assert volume in compose["volumes"]  # named, so `docker compose down` keeps it


def test_postgres_has_a_health_check_that_asks_the_server(
    services: dict[str, dict[str, Any]],
) -> None:
    _, postgres = _postgres(services)
    check = postgres["healthcheck"]
    assert check["test"][0] == "CMD"
    assert check["test"][1] == "pg_isready"
    assert _seconds(check["timeout"]) <= _seconds(check["interval"])
    assert check["retries"] >= 1


def test_two_bot_replicas_are_built_from_the_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    bots = _bots(services)
    assert len(bots) == 2
    for bot in bots:
        build = bot["build"]
        if isinstance(build, str):
            build = {"context": build}
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == ROOT / "Dockerfile"
        # Two processes of the default command: `serve`, the image's CMD.
        assert "command" not in bot
        assert "entrypoint" not in bot
        assert bot.get("deploy", {}).get("replicas", 1) == 1


def test_the_bots_wait_for_a_healthy_database_and_use_it(
    services: dict[str, dict[str, Any]],
) -> None:
    name, postgres = _postgres(services)
    database = _environment(postgres)
    for bot in _bots(services):
        assert bot["depends_on"][name]["condition"] == "service_healthy"
        environ = {variable: f"<{variable}>" for variable in ("POSTGRES_PASSWORD", *SECRETS)}
        url = _interpolate(_environment(bot)["BACKUPCHECK_STORAGE__URL"], environ)
        parts = urlsplit(url)
        assert parts.scheme == "postgresql+psycopg"
        assert (parts.hostname, parts.port or 5432) == (name, 5432)
        assert parts.path == "/" + database["POSTGRES_DB"]
        assert parts.username == database["POSTGRES_USER"]
        assert parts.password == environ["POSTGRES_PASSWORD"]


def test_the_storage_variable_is_one_the_bot_reads(services: dict[str, dict[str, Any]]) -> None:
    """BACKUPCHECK_STORAGE__URL overrides storage.url, as Compose would pass it."""
    (bot, _) = _bots(services)
    environ = {variable: "secret" for variable in ("POSTGRES_PASSWORD", *SECRETS)}
    url = _interpolate(_environment(bot)["BACKUPCHECK_STORAGE__URL"], environ)
    config = load_config(None, {"BACKUPCHECK_STORAGE__URL": url})
    assert config.storage.url == url


def test_every_secret_comes_from_the_environment_and_none_is_written_down(
    services: dict[str, dict[str, Any]],
) -> None:
    """Each secret is `${NAME:?…}`: Compose passes the shell's value and refuses to start
    without one, so no token or password is ever a literal in the file."""
    _, postgres = _postgres(services)
    assert _required(_environment(postgres)["POSTGRES_PASSWORD"]) == "POSTGRES_PASSWORD"
    for bot in _bots(services):
        environment = _environment(bot)
        for secret in SECRETS:
            assert _required(environment[secret]) == secret
        assert "POSTGRES_PASSWORD" in {
            m["name"] for m in VARIABLE.finditer(environment["BACKUPCHECK_STORAGE__URL"])
        }
    for service in services.values():
        for name, value in _environment(service).items():
            if re.search(r"TOKEN|PASSWORD|SECRET", name) and not name.endswith("_FILE"):
                assert VARIABLE.fullmatch(value), f"{name} is written down in the file"
            assert not re.search(r"xox[a-z]-", value), f"{name} holds a Slack token"


def _required(value: str) -> str:
    """The variable a value is made of alone, required (`${NAME:?message}`)."""
    match = VARIABLE.fullmatch(value)
    assert match, value
    assert (match["modifier"] or "").startswith(":?"), f"{value}: say so when it is unset"
    return match["name"]


def test_the_bots_get_the_config_read_only(services: dict[str, dict[str, Any]]) -> None:
    for bot in _bots(services):
        mounts = [v for v in bot["volumes"] if v.split(":")[1] == CONFIG_PATH]
        assert mounts
        assert all(v.split(":")[2:] == ["ro"] for v in mounts)


def test_the_bots_have_time_to_finish_on_sigterm(services: dict[str, dict[str, Any]]) -> None:
    """Running checks get alerts.shutdown_grace_s, then the outbox is flushed, before SIGKILL."""
    grace = AlertSettings().shutdown_grace_s
    for bot in _bots(services):
        assert _seconds(bot["stop_grace_period"]) >= grace + 10


def test_the_bots_have_the_images_health_check(services: dict[str, dict[str, Any]]) -> None:
    for bot in _bots(services):
        check = bot["healthcheck"]
        assert check["test"] == ["CMD", "backupcheck", "health"]
        assert _seconds(check["timeout"]) < _seconds(check["interval"])
        assert {"start_period", "retries"} <= set(check)


def test_every_service_restarts_unless_stopped(services: dict[str, dict[str, Any]]) -> None:
    for service in services.values():
        assert service["restart"] == "unless-stopped"
