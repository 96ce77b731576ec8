"""Contacts with borrowers and the attempts the contact policy blocked (compliance guardrails).

Both tables are keyed by the borrower (across cases, channels, users and agencies) and carry
the borrower's local date, so daily caps and the compliance report count borrower-local days.
Rows are kept for the retention period of the policy in force, then purged (never those of
open cases).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class RecordedContact(Base):
    """A contact that took place or is under way (an outbox message being sent, a recorded call).

    `connected` is None while the outcome is not known (counted as connected, so concurrent
    workers cannot overrun a cap), True once the message went out or the call was answered,
    False for an unanswered call or a message that failed.
    """

    __tablename__ = "contact_records"
    __table_args__ = (
        Index("ix_contact_records_borrower_at", "borrower_id", "at"),
        Index("ix_contact_records_local_date", "local_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # outbound_automated | human_recorded
    target: Mapped[str] = mapped_column(String(32))  # borrower | emergency_contact | guarantor
    target_id: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16))  # collection | service
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    local_date: Mapped[date] = mapped_column(Date)
    connected: Mapped[bool | None] = mapped_column(Boolean)
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # call-recording metadata (a reference into the recording system), purged on its own period
    recording_ref: Mapped[str | None] = mapped_column(String(500))
    # the dialled line as a keyed hash (never the number itself): unanswered attempts per number
    number_key: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)  # made by an agency's collector
    policy_id: Mapped[str] = mapped_column(String(100))
    policy_version: Mapped[str] = mapped_column(String(50))
    policy_sha256: Mapped[str] = mapped_column(String(64))


class BlockedContact(Base):
    """An attempt the contact policy deferred, dropped or refused, with the rule and reason."""

    __tablename__ = "contact_blocks"
    __table_args__ = (
        Index("ix_contact_blocks_local_date", "local_date"),
        Index("ix_contact_blocks_borrower_at", "borrower_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    borrower_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    loan_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    local_date: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(16))  # defer | drop | refuse
    rule: Mapped[str] = mapped_column(String(32))
    blocked_by: Mapped[list[str]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)
    policy_id: Mapped[str] = mapped_column(String(100))
    policy_version: Mapped[str] = mapped_column(String(50))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType)
