"""One collect function for the whole inventory: each server read from its file or over WinRM."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from checks.collect.file import read_snapshot_file
from checks.collect.winrm import winrm_collect
from checks.fleet import Clock, Collect
from checks.inventory import Inventory, Server
from checks.snapshot import Snapshot


def collect_for(
    inventory: Inventory,
    environ: Mapping[str, str],
    clock: Clock = lambda: datetime.now(UTC),
) -> Collect:
    """What the CLI, doctor and the bot check with; `clock` judges a snapshot file's age."""
    over_winrm = winrm_collect(inventory, environ)

    def collect(server: Server) -> Snapshot:
        if server.reads_file:
            return read_snapshot_file(server, clock())
        return over_winrm(server)

    return collect
