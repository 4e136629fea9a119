"""alembic's entry point: migrations run online against the URL backupcheck passes in."""

from __future__ import annotations

from alembic import context

from bot.storage.database import make_engine
from bot.storage.models import Base


def run() -> None:
    """Run the pending migrations in one transaction."""
    url = context.config.attributes.get("url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    with make_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
