"""scheduled runs, discovered windows, silences, and the last report of an alert

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("report", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("silenced_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("silenced_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("digest_key", sa.String(length=200), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("edits", sa.String(length=200), nullable=True))
        batch.create_index("ix_outbox_edits", ["edits"])
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server", sa.String(length=253), nullable=False),
        sa.Column("window_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server", "window_at", "kind", name="uq_run_server_window_kind"),
    )
    op.create_table(
        "server_windows",
        sa.Column("server", sa.String(length=253), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("server"),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server", sa.String(length=253), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_silences_server_until", "silences", ["server", "until"])


def downgrade() -> None:
    op.drop_index("ix_silences_server_until", table_name="silences")
    op.drop_table("silences")
    op.drop_table("server_windows")
    op.drop_table("scheduled_runs")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_edits")
        batch.drop_column("edits")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("digest_key")
        batch.drop_column("silenced_until")
        batch.drop_column("silenced_by")
        batch.drop_column("report")
