"""Ticket clocks (claim and completion limits, reminders), handover keep flag, scheduler slots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIMES = (
    "claim_remind_at",
    "claim_escalate_at",
    "done_warn_at",
    "done_due_at",
    "supervise_at",
    "reminded_at",
    "escalated_at",
    "warned_at",
    "supervised_at",
    "appointment_reminded_at",
    "claimed_at",
    "done_at",
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in _TIMES:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("keep_at_handover", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_tickets_claim_remind_at", ["claim_remind_at"])
    op.create_table(
        "scheduler_runs",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_claim_remind_at")
        batch.drop_column("keep_at_handover")
        for name in reversed(_TIMES):
            batch.drop_column(name)
