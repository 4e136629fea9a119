"""The doctor's lines for a server read from a snapshot file: the file, and how old it is."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.terminal.doctor.findings import Finding, Outcome
from checks.collect.errors import CollectError
from checks.collect.file import check_age, load_snapshot_file, snapshot_age
from checks.i18n import Catalog
from checks.inventory import Server

# The fix for each error the file collector raises (checks/collect/file.py).
FILE_FIXES = {
    "file_missing": "file_missing",
    "file_unreadable": "file_unreadable",
    "file_invalid": "file_invalid",
}


def file_findings(server: Server, now: datetime, t: Catalog) -> list[Finding]:
    """Whether the file can be read as a snapshot, then whether it is recent enough; no DNS,
    port or login, since nothing contacts the server."""
    file_step = t.text("doctor.step.file", server=server.name)
    age_step = t.text("doctor.step.age", server=server.name)
    params = {"server": server.name, "path": str(server.snapshot_file)}
    try:
        snapshot, written = load_snapshot_file(server)
    except CollectError as error:
        fix = t.text(f"doctor.fix.{FILE_FIXES.get(error.key, 'collect')}", **params)
        return [
            Finding(file_step, Outcome.FAILED, error.text(t), fix),
            Finding(age_step, Outcome.SKIPPED, t.text("doctor.skipped")),
        ]
    found = [Finding(file_step, Outcome.PASSED, t.text("doctor.file_ok", host=snapshot.host))]
    age = snapshot_age(snapshot, written, now)
    try:
        check_age(server, age)
    except CollectError as error:
        fix = t.text("doctor.fix.file_too_old", **params)
        return [*found, Finding(age_step, Outcome.FAILED, error.text(t), fix)]
    # A server clock a little ahead of ours makes the age negative: that is "just written".
    minutes = t.number(max(age, timedelta(0)).total_seconds() / 60, "#,##0")
    limit = t.number(server.max_snapshot_age_min, "#,##0")
    detail = t.text("doctor.age_ok", minutes=minutes, limit=limit)
    return [*found, Finding(age_step, Outcome.PASSED, detail)]
