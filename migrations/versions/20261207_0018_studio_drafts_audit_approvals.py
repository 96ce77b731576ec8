"""The compliance studio: drafts and their files, the definitions' audit history, and the
four-eyes approval stored with a deployed version.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "studio_drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_note", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_sha256", sa.String(length=64), nullable=True),
        sa.Column("deployed_version", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_drafts")),
    )
    op.create_index(op.f("ix_studio_drafts_key"), "studio_drafts", ["key"])
    op.create_index(op.f("ix_studio_drafts_owner"), "studio_drafts", ["owner"])
    op.create_index("ix_studio_drafts_status_updated", "studio_drafts", ["status", "updated_at"])
    op.create_table(
        "studio_draft_files",
        sa.Column("draft_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["studio_drafts.id"], name=op.f("fk_studio_draft_files_draft_id_studio_drafts")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["stored_files.sha256"], name=op.f("fk_studio_draft_files_sha256_stored_files")
        ),
        sa.PrimaryKeyConstraint("draft_id", "name", name=op.f("pk_studio_draft_files")),
    )
    op.create_table(
        "definition_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("draft_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("detail", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_audit")),
    )
    op.create_index("ix_definition_audit_key_id", "definition_audit", ["key", "id"])
    op.create_table(
        "process_version_approvals",
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.String(length=36), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_version_id"],
            ["process_versions.id"],
            name=op.f("fk_process_version_approvals_process_version_id_process_versions"),
        ),
        sa.PrimaryKeyConstraint("process_version_id", name=op.f("pk_process_version_approvals")),
    )


def downgrade() -> None:
    op.drop_table("process_version_approvals")
    op.drop_index("ix_definition_audit_key_id", table_name="definition_audit")
    op.drop_table("definition_audit")
    op.drop_table("studio_draft_files")
    op.drop_index("ix_studio_drafts_status_updated", table_name="studio_drafts")
    op.drop_index(op.f("ix_studio_drafts_owner"), table_name="studio_drafts")
    op.drop_index(op.f("ix_studio_drafts_key"), table_name="studio_drafts")
    op.drop_table("studio_drafts")
