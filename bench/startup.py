"""Benchmark: what a Nagios plugin run of `backupcheck evaluate` costs to start.

    uv run python bench/startup.py [--runs 20]

Times `backupcheck evaluate SNAPSHOT -f nagios` against a floor measured in the same run and
the same way: a Python that only imports the evaluation core, typer and rich. Runs alternate
so that a busy moment of the machine weighs on both.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKUPCHECK = Path(sys.executable).with_name("backupcheck")
SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "seed-incident.json"
FLOOR = [sys.executable, "-c", "import checks.evaluate, typer, rich"]
PLUGIN = [sys.executable, str(BACKUPCHECK), "evaluate", str(SNAPSHOT), "-f", "nagios"]


def timed(command: list[str]) -> float:
    """Wall seconds of one run, which must end as the command documents (0 to 3)."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, timeout=60, check=False, cwd=ROOT)  # noqa: S603
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1, 2, 3):
        raise SystemExit(f"{command} failed: {result.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for command in (FLOOR, PLUGIN):  # bytecode written, files in the page cache
        timed(command)
    floor, plugin = [], []
    for _ in range(args.runs):
        floor.append(timed(FLOOR))
        plugin.append(timed(PLUGIN))
    f, p = statistics.median(floor), statistics.median(plugin)
    print(f"{args.runs} runs each, alternating; medians")
    print(f"floor, python -c 'import checks.evaluate, typer, rich': {f * 1000:.0f} ms")
    print(f"backupcheck evaluate SNAPSHOT -f nagios: {p * 1000:.0f} ms; ratio {p / f:.2f}")
    bare = statistics.median(timed([sys.executable, "-c", ""]) for _ in range(5))
    print(f"python importing nothing: {bare * 1000:.0f} ms")


if __name__ == "__main__":
    main()
