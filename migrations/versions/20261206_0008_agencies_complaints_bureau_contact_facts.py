"""Agencies and placements, commissions, complaints, contact facts, credit-bureau reports (issue 20).

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-06 20:50:02.632727
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("contract_ref", sa.String(length=200), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column(
            "allowed_channels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "personal_data_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("contact_policy_id", sa.String(length=100), nullable=False),
        sa.Column("impact_assessment_ref", sa.String(length=200), nullable=False),
        sa.Column("last_evaluated_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "agency_placements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("active_key", sa.Uuid(), nullable=True),
        sa.Column("balance_at_placement", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recalled_by", sa.String(length=200), nullable=True),
        sa.Column("recall_reason", sa.String(length=32), nullable=True),
        sa.Column("recall_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_placements_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_agency_placements_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_placements")),
        sa.UniqueConstraint("active_key", name=op.f("uq_agency_placements_active_key")),
    )
    with op.batch_alter_table("agency_placements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agency_placements_agency_active", ["agency_id", "recalled_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agency_placements_case_id"), ["case_id"], unique=False)

    op.create_table(
        "bureau_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("notice_outbox_id", sa.Uuid(), nullable=False),
        sa.Column("notice_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("overdue_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("default_date", sa.Date(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("export_date", sa.Date(), nullable=False),
        sa.Column("default_ended_on", sa.Date(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_bureau_reports_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_reports")),
        sa.UniqueConstraint("case_id", name=op.f("uq_bureau_reports_case_id")),
    )
    with op.batch_alter_table("bureau_reports", schema=None) as batch_op:
        batch_op.create_index("ix_bureau_reports_export_date", ["export_date"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=True),
        sa.Column("collector", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("recalled_placement_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_complaints_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("event_id", name=op.f("uq_complaints_event_id")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_complaints_case_status", ["case_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_collector"), ["collector"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_received_at"), ["received_at"], unique=False)

    op.create_table(
        "contact_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("borrower_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_contact_facts_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_facts")),
    )
    with op.batch_alter_table("contact_facts", schema=None) as batch_op:
        batch_op.create_index("ix_contact_facts_borrower", ["borrower_id", "recorded_at"], unique=False)

    op.create_table(
        "agency_commissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.String(length=100), nullable=False),
        sa.Column("payment_event_id", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("commission", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_commissions_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["agency_placements.id"],
            name=op.f("fk_agency_commissions_placement_id_agency_placements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_commissions")),
        sa.UniqueConstraint("payment_event_id", name=op.f("uq_agency_commissions_payment_event_id")),
    )
    with op.batch_alter_table("agency_commissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agency_commissions_agency_day", ["agency_id", "business_date"], unique=False
        )

    op.create_table(
        "bureau_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column(
            "old_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "new_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_by", sa.String(length=200), nullable=False),
        sa.Column("export_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["bureau_reports.id"], name=op.f("fk_bureau_corrections_report_id_bureau_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_corrections")),
    )
    with op.batch_alter_table("bureau_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bureau_corrections_report_id"), ["report_id"], unique=False)

    with op.batch_alter_table("contact_blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_contact_blocks_agency_id"), ["agency_id"], unique=False)

    with op.batch_alter_table("contact_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("agency_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_contact_records_agency_id"), ["agency_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("contact_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_records_agency_id"))
        batch_op.drop_column("agency_id")
        batch_op.drop_column("number_key")

    with op.batch_alter_table("contact_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_blocks_agency_id"))
        batch_op.drop_column("agency_id")

    with op.batch_alter_table("bureau_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bureau_corrections_report_id"))

    op.drop_table("bureau_corrections")
    with op.batch_alter_table("agency_commissions", schema=None) as batch_op:
        batch_op.drop_index("ix_agency_commissions_agency_day")

    op.drop_table("agency_commissions")
    with op.batch_alter_table("contact_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_facts_borrower")

    op.drop_table("contact_facts")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_received_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_collector"))
        batch_op.drop_index("ix_complaints_case_status")
        batch_op.drop_index(batch_op.f("ix_complaints_agency_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("bureau_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_bureau_reports_export_date")

    op.drop_table("bureau_reports")
    with op.batch_alter_table("agency_placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_placements_case_id"))
        batch_op.drop_index("ix_agency_placements_agency_active")

    op.drop_table("agency_placements")
    op.drop_table("agencies")
