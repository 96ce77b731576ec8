"""The semantic diff each process version keeps against the version before it.

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-06 21:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_version_diffs",
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("against_version", sa.Integer(), nullable=True),
        sa.Column(
            "diff",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_versions.id"]),
        sa.PrimaryKeyConstraint("process_version_id"),
    )


def downgrade() -> None:
    op.drop_table("process_version_diffs")
