"""The 百事通 handbook in the database: every published version, whole, with who and when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handbook_versions",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer, nullable=True),  # staff.id; none for the CLI and the first import
        sa.Column("author", sa.String(32), nullable=False, server_default=""),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("files", sa.JSON, nullable=False),  # {relative path: text}: the data directory
    )


def downgrade() -> None:
    op.drop_table("handbook_versions")
