"""The health endpoint says whether Slack is connected and the scheduler runs; `backupcheck
health` turns that into an exit code for Docker's HEALTHCHECK."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.health import Health, HealthStatus, ask_health, serve_health
from tests.bot.conftest import Run


class Switch:
    """A part's state that the test flips."""

    def __init__(self, on: bool = True) -> None:
        self.on = on

    def __call__(self) -> bool:
        return self.on


@pytest.fixture
def parts() -> tuple[Switch, Switch]:
    return Switch(), Switch()


@pytest.fixture
def port(parts: tuple[Switch, Switch]) -> Iterator[int]:
    slack, scheduler = parts
    server = serve_health(Health(slack, scheduler), 0)
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_healthy_only_when_slack_is_connected_and_the_scheduler_runs(
    parts: tuple[Switch, Switch], port: int
) -> None:
    slack, scheduler = parts
    assert ask_health(port) == HealthStatus(True, "connected", "running")
    scheduler.on = False
    assert ask_health(port) == HealthStatus(False, "connected", "stopped")
    slack.on, scheduler.on = False, True
    assert ask_health(port) == HealthStatus(False, "disconnected", "running")


def test_without_scheduled_alerts_the_scheduler_is_off_and_that_is_fine() -> None:
    assert Health(lambda: True, None).status() == HealthStatus(True, "connected", "off")


def test_nothing_listening_is_no_answer() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert ask_health(free, timeout=1) is None


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "backupcheck.yaml"
    path.write_text(f"slack:\n  health_port: {port}\n", encoding="utf-8")
    return path


def test_the_command_exits_0_when_healthy_and_1_otherwise(
    run: Run, tmp_path: Path, parts: tuple[Switch, Switch], port: int
) -> None:
    config = _config(tmp_path, port)
    healthy = run("health", "--config", str(config))
    assert (healthy.returncode, healthy.stdout.strip()) == (
        0,
        "healthy: Slack connected, scheduler running.",
    )
    parts[0].on = False
    sick = run("health", "--config", str(config))
    assert (sick.returncode, sick.stdout.strip()) == (
        1,
        "unhealthy: Slack disconnected, scheduler running.",
    )


def test_the_command_says_when_no_bot_answers(run: Run, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    result = run("health", "--config", str(_config(tmp_path, free)))
    assert result.returncode == 1
    assert f"no bot answers on 127.0.0.1:{free}" in result.stderr
