"""Personal-data access log; history entries and the access log become append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:29:29.574325

A trigger refuses UPDATE and DELETE on `history_entries` and `personal_data_reads`, so no code
path of the service (nor an ad-hoc statement of an application account) can rewrite them. A DBA
who owns the tables can still disable the trigger; the hash chain then shows the edit
(`GET /cases/{id}/history/verify`). TRUNCATE is left alone (test fixtures use it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("history_entries", "personal_data_reads")
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION xinedai_refuse_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$
"""


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION xinedai_refuse_append_only_change()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def upgrade() -> None:
    op.create_table(
        "personal_data_reads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("access", sa.String(length=32), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_reads")),
    )
    with op.batch_alter_table("personal_data_reads", schema=None) as batch_op:
        batch_op.create_index("ix_personal_data_reads_actor_at", ["actor", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_data_reads_at"), ["at"], unique=False)
        batch_op.create_index("ix_personal_data_reads_case_at", ["case_id", "at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
    for table in APPEND_ONLY:
        _append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS xinedai_refuse_append_only_change()")
    with op.batch_alter_table("personal_data_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_personal_data_reads_case_at")
        batch_op.drop_index(batch_op.f("ix_personal_data_reads_at"))
        batch_op.drop_index("ix_personal_data_reads_actor_at")

    op.drop_table("personal_data_reads")
