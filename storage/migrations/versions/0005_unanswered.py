"""Unanswered questions: what the bot apologised for, referred elsewhere or asked "which one?" about.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resident", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("offered", sa.Text, nullable=False, server_default=""),
        sa.Column("picked", sa.String(64), nullable=True),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_unanswered_questions_resident", "unanswered_questions", ["resident"])
    op.create_index("ix_unanswered_questions_created_at", "unanswered_questions", ["created_at"])


def downgrade() -> None:
    op.drop_table("unanswered_questions")
