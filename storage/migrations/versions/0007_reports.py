"""Reports: the conversations the direct-answer rate counts, and unanswered groups set aside.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("resident", sa.String(64), primary_key=True),
        sa.Column("item", sa.String(64), primary_key=True, server_default=""),
    )
    op.create_table(
        "unanswered_dismissed",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff", sa.String(32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("unanswered_dismissed")
    op.drop_table("conversation_days")
