"""Complaints about the collection, and facts about the borrower the contact policy relies on."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, UTCDateTime


class Complaint(Base):
    """A complaint from the bank's complaint system; collection contact pauses while it is open."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_case_status", "case_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    loan_id: Mapped[str] = mapped_column(String(100))
    borrower_id: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)
    collector: Mapped[str | None] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # open | resolved
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    recalled_placement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ContactFact(Base):
    """What is recorded about the borrower for the emergency-contact rules (GB/T 45251-2025).

    Kinds: `unreachable` / `reachable` (the latest wins), `deceased`, `incapacitated`, and
    `emergency_contact_refused` (with the contact's id) — honoured for ever: never purged.
    """

    __tablename__ = "contact_facts"
    __table_args__ = (Index("ix_contact_facts_borrower", "borrower_id", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
