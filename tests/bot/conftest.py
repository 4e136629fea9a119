"""Runs the installed `backupcheck` console script, as a user or Nagios would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BACKUPCHECK = Path(sys.executable).with_name("backupcheck")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run backupcheck with arguments; returns the finished process (never raises on exit code)."""

    def run_backupcheck(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k != "BACKUPCHECK_CONFIG"}
        environment.update({"COLUMNS": "160", "NO_COLOR": "1"}, **(env or {}))
        return subprocess.run(
            [str(BACKUPCHECK), *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=environment,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    return run_backupcheck
