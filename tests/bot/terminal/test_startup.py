"""`backupcheck check` starts light: the terminal loads no Slack stack, database or scheduler."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "apscheduler", "bot.serve")


def test_the_command_loads_none_of_the_bots_stack() -> None:
    """Importing the CLI (what every `check` run does) leaves the heavy packages unloaded."""
    probe = f"import sys, bot.terminal.cli\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
