"""signed Slack requests already accepted, shared by replicas

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("request_ts", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_seen_requests_request_ts", "seen_requests", ["request_ts"])


def downgrade() -> None:
    op.drop_index("ix_seen_requests_request_ts", table_name="seen_requests")
    op.drop_table("seen_requests")
