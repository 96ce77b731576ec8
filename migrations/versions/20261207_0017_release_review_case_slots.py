"""Cases already in review give up the loan's one-collecting-case slot.

From this revision a case releases `cases.singleton_key` when its collection is over (stage
`review`, see `domain.case_rules.end_collection`), so the loan's next overdue event opens a new
case. Cases that reached review before it still hold the slot; this frees it. No schema change:
the unique `singleton_key` column already counts only the cases that hold a slot.

Revision ID: 0017
Revises: 0009
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE cases SET singleton_key = NULL WHERE stage = 'review' AND singleton_key IS NOT NULL")


def downgrade() -> None:
    # Nothing to undo safely: a loan may have a new collecting case by now, which holds the slot,
    # and the older code treats a case without a slot as one more case of the loan.
    pass
