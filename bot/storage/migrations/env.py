"""alembic's entry point: migrations run online on the connection backupcheck passes in."""

from __future__ import annotations

from alembic import context

from bot.storage.models import Base


def run() -> None:
    """Run the pending migrations in one transaction."""
    # migrate() hands over its connection, on which it may hold PostgreSQL's migration lock.
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("no database connection given to the migrations")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
