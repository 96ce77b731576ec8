"""Outside collection agencies (委外催收), the cases placed with them and the commission they earn."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class Agency(Base):
    """A partner agency under a contract (PIPL art. 21: an outsourced processor needs one)."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the agency code, e.g. AG-001
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)  # what it is engaged for (published)
    contract_ref: Mapped[str] = mapped_column(String(200))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date] = mapped_column(Date)
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    allowed_channels: Mapped[list[str]] = mapped_column(JSONType)
    # the personal-data fields the placement contract names (shown unmasked to the agency)
    personal_data_fields: Mapped[list[str]] = mapped_column(JSONType)
    contact_policy_id: Mapped[str] = mapped_column(String(100))  # always the bank's own policy
    impact_assessment_ref: Mapped[str] = mapped_column(String(200))  # PIPL art. 55
    last_evaluated_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # active | terminated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Placement(Base):
    """A case placed with an agency, until it is recalled (complaint, contract end, request)."""

    __tablename__ = "agency_placements"
    __table_args__ = (Index("ix_agency_placements_agency_active", "agency_id", "recalled_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(100))
    borrower_id: Mapped[str] = mapped_column(String(200))
    # one active placement per case: the case id while placed, NULL once recalled
    active_key: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    balance_at_placement: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_by: Mapped[str] = mapped_column(String(200))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recalled_by: Mapped[str | None] = mapped_column(String(200))
    recall_reason: Mapped[str | None] = mapped_column(String(32))  # complaint | contract_end | request
    recall_note: Mapped[str | None] = mapped_column(Text)


class Commission(Base):
    """Commission on one payment received while the case was placed (one row per payment)."""

    __tablename__ = "agency_commissions"
    __table_args__ = (Index("ix_agency_commissions_agency_day", "agency_id", "business_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    placement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency_placements.id"))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    loan_id: Mapped[str] = mapped_column(String(100))
    payment_event_id: Mapped[str] = mapped_column(String(200), unique=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    business_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    commission: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
