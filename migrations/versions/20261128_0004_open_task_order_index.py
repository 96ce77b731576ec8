"""A partial index of open tasks in inbox order, for readers of every lane (auditor, admin).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:59:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_human_tasks_open_order",
        "human_tasks",
        [sa.text("priority DESC"), "due_sort", "created_at", "id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_human_tasks_open_order", table_name="human_tasks")
