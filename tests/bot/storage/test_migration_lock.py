"""On PostgreSQL, processes that migrate at once take turns: one upgrades, the others find the
schema current; a lock held too long is one error naming its holder."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.database import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS,
    MigrationBusy,
    make_engine,
    migrate,
)

POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
HOLD = text("SELECT pg_advisory_lock(:key, hashtext(current_schema()))")


def _head() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@POSTGRESQL_ONLY
def test_four_at_once_migrate_once(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.storage.database")
    start = threading.Barrier(4)

    def replica() -> None:
        start.wait(timeout=30)
        migrate(database_url)

    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(replica) for _ in range(4)]:
            done.result(timeout=60)  # a replica's error is raised here
    migrated = [r for r in caplog.records if r.getMessage().startswith("migrated the database")]
    assert [r.getMessage() for r in migrated] == [f"migrated the database from empty to {_head()}"]
    with make_engine(database_url).connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(_head(),)]


@POSTGRESQL_ONLY
def test_a_lock_held_too_long_names_its_holder(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as holder:
        holder.execute(HOLD, {"key": MIGRATION_LOCK_KEY})
        holder_pid = holder.scalar(text("SELECT pg_backend_pid()"))
        began = time.monotonic()
        with pytest.raises(MigrationBusy) as busy:
            migrate(database_url, wait_s=0.5)
        assert 0.5 <= time.monotonic() - began < 10
        assert (busy.value.holder, busy.value.waited_s) == (holder_pid, 0.5)
    engine.dispose()  # the holder's session ends, and its lock with it
    migrate(database_url, wait_s=5)
    with make_engine(database_url).connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == _head()
