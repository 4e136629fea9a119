"""how each backup window went, verified after it

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("outcome", sa.JSON(), nullable=True))
    op.create_table(
        "window_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("server", sa.String(length=253), nullable=False),
        sa.Column("window_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("precheck", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column(
            "alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("server", "window_at", name="uq_outcome_server_window"),
    )


def downgrade() -> None:
    op.drop_table("window_outcomes")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("outcome")
