"""The borrower of each task (for `POST /tasks:next`: one person per borrower at a time).

Existing rows get the borrower of their case (`borrower.id`, or `loan:<loan_id>`).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 21:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("borrower_id", sa.String(200), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        extract = "NULLIF(c.variables -> 'borrower' ->> 'id', '')"
    else:
        extract = "NULLIF(CAST(json_extract(c.variables, '$.borrower.id') AS TEXT), '')"
    op.execute(
        "UPDATE human_tasks SET borrower_id = ("
        f" SELECT SUBSTR(COALESCE({extract}, 'loan:' || c.loan_id), 1, 200)"
        " FROM cases c WHERE c.id = human_tasks.case_id)"
    )
    op.create_index("ix_human_tasks_borrower_status", "human_tasks", ["borrower_id", "status"])
    op.create_index("ix_human_tasks_loan_status", "human_tasks", ["loan_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_human_tasks_loan_status", table_name="human_tasks")
    op.drop_index("ix_human_tasks_borrower_status", table_name="human_tasks")
    op.drop_column("human_tasks", "borrower_id")
