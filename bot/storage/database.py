"""Opens the database (SQLite file or PostgreSQL URL) and brings its schema up to date."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# How long a process waits for another one's migration before it gives up: a schema this size
# migrates in about a second, so this is a stuck session, not a slow one.
MIGRATION_WAIT_S = 120.0
# The advisory lock's first key ("bcmg"); the second is the schema's hash, so installations in
# other schemas of one database never wait for each other.
MIGRATION_LOCK_KEY = 0x62636D67
_TRY_LOCK = text(
    "SELECT pg_try_advisory_lock(CAST(:key AS integer), hashtext(coalesce(current_schema(), '')))"
).bindparams(key=MIGRATION_LOCK_KEY)
_UNLOCK = text(
    "SELECT pg_advisory_unlock(CAST(:key AS integer), hashtext(coalesce(current_schema(), '')))"
).bindparams(key=MIGRATION_LOCK_KEY)
_HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
    " AND classid = CAST(:key AS oid) AND objid = CAST(hashtext(coalesce(current_schema(), ''))"
    " AS oid) LIMIT 1"
).bindparams(key=MIGRATION_LOCK_KEY)
logger = logging.getLogger(__name__)


class MigrationBusy(Exception):
    """Another session held the migration lock for longer than we wait; `holder` is its pid."""

    def __init__(self, waited_s: float, holder: int | None) -> None:
        super().__init__(f"another session (pid {holder}) holds the migration lock")
        self.waited_s = waited_s
        self.holder = holder


def migrate(url: str, *, wait_s: float = MIGRATION_WAIT_S) -> None:
    """Apply every migration the database does not have yet; on PostgreSQL one process at a
    time, so that replicas starting together migrate once (MigrationBusy after `wait_s`)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            locked = connection.dialect.name == "postgresql"
            if locked:
                _lock_migrations(connection, wait_s)
            before = _revision(connection)
            # alembic runs on this very connection: the lock belongs to a session, not a URL.
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            after = _revision(connection)
            if after != before:  # said once per upgrade, by the one process that made it
                logger.info("migrated the database from %s to %s", before or "empty", after)
            if locked:
                # On an error the session ends with dispose() below, and its lock with it.
                connection.execute(_UNLOCK)
                connection.commit()
    finally:
        engine.dispose()


def _lock_migrations(connection: Connection, wait_s: float) -> None:
    # pg_try_ in a loop rather than pg_advisory_lock with lock_timeout: the wait stays ours to
    # bound, and no setting lingers for the migrations' own statements.
    deadline = time.monotonic() + wait_s
    pause = 0.05
    told = False
    while not connection.scalar(_TRY_LOCK):
        connection.commit()  # no snapshot held across the wait
        if time.monotonic() >= deadline:
            raise MigrationBusy(wait_s, _lock_holder(connection))
        if not told and pause >= 0.4:
            logger.info("waiting for another process to finish migrating the database")
            told = True
        time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
        pause = min(pause * 2, 0.5)
    # A session lock outlives this transaction; alembic must begin its own, not join ours.
    connection.commit()


def _revision(connection: Connection) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    connection.commit()  # alembic must begin its own transaction, not join this one
    return revision


def _lock_holder(connection: Connection) -> int | None:
    holder = connection.scalar(_HOLDER)
    connection.commit()
    return int(holder) if holder is not None else None


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets foreign keys and a write-ahead log, which it lacks by default."""
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_database(url: str) -> sessionmaker[Session]:
    """Migrate, then hand out sessions."""
    migrate(url)
    return sessionmaker(make_engine(url), expire_on_commit=False)


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    # WAL survives a kill -9 mid-write and lets readers run beside the writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
