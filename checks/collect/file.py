"""The file collector: reads the snapshot a server's own scheduled task wrote to a share.

For hosts where inbound WinRM is forbidden: the probe runs on the server and saves its output,
and the bot reads the file as `evaluate FILE` does (any Windows encoding, at most 16 MiB).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from checks.collect.errors import CollectError
from checks.inventory import Server
from checks.json_text import MAX_DOCUMENT_BYTES
from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot


def load_snapshot_file(server: Server) -> tuple[Snapshot, datetime]:
    """The server's snapshot and when its file was last written; CollectError when the file
    is missing, unreadable or not a valid snapshot."""
    path = server.snapshot_file
    if path is None:
        raise CollectError("not_a_file_server", permanent=True, server=server.name)
    try:
        with path.open("rb") as stream:
            written = datetime.fromtimestamp(os.fstat(stream.fileno()).st_mtime, UTC)
            # One byte past the limit is enough to refuse the file without holding all of it.
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise CollectError("file_missing", path=str(path), server=server.name) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CollectError("file_unreadable", path=str(path), reason=reason) from None
    try:
        return parse_snapshot(data), written
    except InvalidSnapshot as error:
        raise CollectError("file_invalid", path=str(path), problem=str(error)) from None


def snapshot_age(snapshot: Snapshot, written: datetime, now: datetime) -> timedelta:
    """How old the snapshot is: by the older of its own `collected_at` and the file's mtime, so
    that a server whose clock runs ahead cannot make a file that stopped changing look fresh."""
    return now - min(snapshot.collected_at, written)


def check_age(server: Server, age: timedelta) -> None:
    """CollectError when the snapshot is older than the server's max_snapshot_age_min."""
    if age <= timedelta(minutes=server.max_snapshot_age_min):
        return
    minutes = int(age.total_seconds() // 60)
    if minutes >= 2 * 24 * 60:
        key, count = "file_too_old_days", minutes // (24 * 60)
    elif minutes >= 2 * 60:
        key, count = "file_too_old_hours", minutes // 60
    else:
        key, count = "file_too_old_minutes", minutes
    raise CollectError(key, path=str(server.snapshot_file), age=count, server=server.name)


def read_snapshot_file(server: Server, now: datetime) -> Snapshot:
    """The server's snapshot from its file, or CollectError with one sentence (missing,
    unreadable, invalid, or too old)."""
    snapshot, written = load_snapshot_file(server)
    check_age(server, snapshot_age(snapshot, written, now))
    return snapshot
