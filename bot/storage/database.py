"""Opens the database (SQLite file or PostgreSQL URL) and brings its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def migrate(url: str) -> None:
    """Apply every migration the database does not have yet."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Not set_main_option: its ConfigParser would choke on the % of a URL-encoded password.
    config.attributes["url"] = url
    command.upgrade(config, "head")


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
