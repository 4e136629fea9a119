"""The machine's cores split between the process measured and the processes that stand in for
other machines (simulated hosts, Slack's senders), so that the bench measures the project."""

from __future__ import annotations

import os


def split_cores() -> tuple[set[int], set[int]] | None:
    """The measured process's cores and the stand-ins' core, or None if there is one core only."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return set(cores[:-1]), {cores[-1]}


def pin(cores: set[int] | None) -> None:
    """Run this process on `cores` (None: wherever the OS likes)."""
    if cores is not None:
        os.sched_setaffinity(0, cores)
