"""Contact records and blocked contacts (compliance guardrails).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:29:07.768364
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_blocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column(
            "blocked_by",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("policy_version", sa.String(length=50), nullable=False),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "decision",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_contact_blocks_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_blocks")),
    )
    with op.batch_alter_table("contact_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_contact_blocks_borrower_at", ["borrower_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_blocks_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_contact_blocks_local_date", ["local_date"], unique=False)

    op.create_table(
        "contact_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=True),
        sa.Column("conversation", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("recording_ref", sa.String(length=500), nullable=True),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("policy_version", sa.String(length=50), nullable=False),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_contact_records_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_records")),
    )
    with op.batch_alter_table("contact_records", schema=None) as batch_op:
        batch_op.create_index("ix_contact_records_borrower_at", ["borrower_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_records_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_contact_records_local_date", ["local_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_records_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_records_outbox_id"))
        batch_op.drop_index("ix_contact_records_local_date")
        batch_op.drop_index(batch_op.f("ix_contact_records_case_id"))
        batch_op.drop_index("ix_contact_records_borrower_at")

    op.drop_table("contact_records")
    with op.batch_alter_table("contact_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_blocks_local_date")
        batch_op.drop_index(batch_op.f("ix_contact_blocks_case_id"))
        batch_op.drop_index("ix_contact_blocks_borrower_at")

    op.drop_table("contact_blocks")
