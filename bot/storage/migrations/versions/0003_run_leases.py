"""leases on scheduled runs, so that replicas share the checks and take over a dead one's

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A run left "running" by an older version has no lease: any replica may take it over.
    with op.batch_alter_table("scheduled_runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_scheduled_runs_owner", ["owner"])


def downgrade() -> None:
    with op.batch_alter_table("scheduled_runs") as batch:
        batch.drop_index("ix_scheduled_runs_owner")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
