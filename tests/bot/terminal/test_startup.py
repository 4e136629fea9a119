"""`backupcheck check` starts light: the terminal loads no Slack stack, database or scheduler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
