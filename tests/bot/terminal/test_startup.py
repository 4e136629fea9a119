"""`backupcheck check` starts light: the terminal loads no Slack stack, database or scheduler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.conftest import BACKUPCHECK

HEAVY = ("slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "apscheduler", "bot.serve")


def test_the_command_loads_none_of_the_bots_stack() -> None:
    """Importing the CLI (what every `check` run does) leaves the heavy packages unloaded."""
    probe = f"import sys, bot.terminal.cli\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_windows_without_a_stored_plan_loads_no_database_library(tmp_path: Path) -> None:
    """`windows` loads SQLAlchemy only to read a database that exists."""
    probe = (
        "import sys\n"
        "from rich.console import Console\n"
        "from bot.config import Config\n"
        "from bot.i18n import catalog\n"
        "from bot.terminal.windows import show_windows\n"
        "settings = Config.model_validate({'servers': [{'name': 'fs01', 'address': 'a'}]})\n"
        "show_windows(settings, settings.resolved(), catalog('en'), Console(file=sys.stderr))\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "[]"
    assert "unknown until checked" in result.stderr


# What a Nagios plugin pays for on every run, and what `evaluate` and friends never need.
REMOTE = ("winrm", "requests", "spnego", "requests_credssp", "requests_ntlm", "psutil")
BOT_STACK = ("slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "apscheduler")
SEED = str(Path(__file__).parents[2] / "fixtures" / "snapshots" / "seed-incident.json")


def _imported(*args: str, cwd: Path) -> set[str]:
    """The top-level packages a real `backupcheck ARGS` run imported (python -X importtime)."""
    return {name.split(".")[0] for name in _modules(*args, cwd=cwd)}


def _modules(*args: str, cwd: Path) -> set[str]:
    """Every module a real `backupcheck ARGS` run imported (python -X importtime)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(BACKUPCHECK), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    assert result.returncode in (0, 2), result.stderr[-2000:]
    lines = (line.split("|")[-1] for line in result.stderr.splitlines() if "|" in line)
    return {name.strip() for name in lines}


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("evaluate", SEED), ()),
        (("evaluate", SEED, "-f", "nagios"), ()),
        (("schema", "snapshot"), ()),
        (("--help",), ()),
        (("check", "--local", "-f", "nagios"), ("psutil",)),
    ],
)
def test_offline_commands_import_no_remote_or_bot_library(
    tmp_path: Path, args: tuple[str, ...], allowed: tuple[str, ...]
) -> None:
    imported = _imported(*args, cwd=tmp_path)
    assert "checks" in imported  # the run really was measured
    assert imported & (set(REMOTE + BOT_STACK) - set(allowed)) == set()


# What a plugin pays beyond the evaluation core, typer and rich's package itself: rendering
# tables, reading YAML (there is no config file here) and the doctor's or health's modules.
PLUGIN_NEEDS_NONE_OF = (
    "rich.console",
    "rich.table",
    "rich.progress",
    "yaml",
    "bot.terminal.render",
    "bot.terminal.doctor.run",
    "bot.health",
    "bot.logs",
)


@pytest.mark.parametrize("output", ["nagios", "json"])
def test_a_plugin_run_of_evaluate_loads_no_table_yaml_or_doctor_module(
    tmp_path: Path, output: str
) -> None:
    modules = _modules("evaluate", SEED, "-f", output, cwd=tmp_path)
    assert "checks.evaluate" in modules  # the run really was measured
    assert modules & set(PLUGIN_NEEDS_NONE_OF) == set()
