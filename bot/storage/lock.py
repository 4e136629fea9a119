"""One `serve` per SQLite file: an OS lock on a file beside the database, held while it runs.

SQLite has no way for two bots to share the work (each would deliver the same outbox rows),
so the second one is refused. The kernel drops the lock when its process dies, kill -9
included, so a restart after a crash is never blocked by a stale lock file."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import make_url

if sys.platform != "win32":
    import fcntl


class DatabaseInUse(Exception):
    """Another live process holds the database's lock; pid and host are what it wrote there."""

    def __init__(self, database: str, pid: int | None, host: str | None) -> None:
        super().__init__(f"another process (pid {pid}) uses {database}")
        self.database = database
        self.pid = pid
        self.host = host


class ProcessLock:
    """An exclusive lock on `path`, until release() or the end of the process."""

    def __init__(self, descriptor: int, path: Path) -> None:
        self._descriptor: int | None = descriptor
        self.path = path

    def release(self) -> None:
        """Let another process take the database; the lock file stays (see lock_sqlite)."""
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the last descriptor drops the flock
            self._descriptor = None


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, as written there; None for an in-memory or other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true): its path, unless in memory
        if parsed.query.get("mode") == "memory":
            return None
        database = unquote(urlsplit(database).path)
    if database in ("", ":memory:"):
        return None
    return Path(database)


def lock_sqlite(url: str) -> ProcessLock | None:
    """Take the lock of the SQLite file `url` names (None for any other database);
    DatabaseInUse when another process holds it."""
    database = sqlite_file(url)
    if database is None or sys.platform == "win32":  # no flock there; the image is Linux
        return None
    # Beside the real file, so two paths to one database (a symlink) find the same lock. The
    # file is never deleted: a process could lock the old one just as another made a new one.
    path = database.resolve().with_name(database.resolve().name + ".lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid, host = _holder(descriptor)
        os.close(descriptor)
        raise DatabaseInUse(str(database), pid, host) from None
    except OSError:
        os.close(descriptor)
        raise
    # Only read while the lock is held, so an old process's line is never taken for a live one.
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    return ProcessLock(descriptor, path)


def _holder(descriptor: int) -> tuple[int | None, str | None]:
    # The holder writes its line just after locking: a reader that comes in between sees none.
    words = os.pread(descriptor, 300, 0).decode("utf-8", "replace").split()
    if len(words) != 2 or not words[0].isdigit():
        return None, None
    return int(words[0]), words[1]
