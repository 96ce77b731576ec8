"""Credit-bureau reports of defaults (征信), created only after the borrower was notified."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class BureauReport(Base):
    """One default reported for a case, with its notice, export and the 5-year end date."""

    __tablename__ = "bureau_reports"
    __table_args__ = (Index("ix_bureau_reports_export_date", "export_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    loan_id: Mapped[str] = mapped_column(String(100))
    borrower_id: Mapped[str] = mapped_column(String(200))
    notice_outbox_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    notice_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    days_past_due: Mapped[int] = mapped_column(Integer)
    overdue_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    default_date: Mapped[date] = mapped_column(Date)  # the due date missed
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    export_date: Mapped[date] = mapped_column(Date)
    # 征信业管理条例 art. 16: kept 5 years after the default ends
    default_ended_on: Mapped[date | None] = mapped_column(Date)
    retain_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # reported | corrected | ended


class BureauCorrection(Base):
    """A correction of a reported record (exported as its own line on the day it is made)."""

    __tablename__ = "bureau_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bureau_reports.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSONType)
    new_value: Mapped[Any] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    corrected_by: Mapped[str] = mapped_column(String(200))
    export_date: Mapped[date] = mapped_column(Date)
