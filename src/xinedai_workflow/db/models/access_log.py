"""The personal-data access log: one row per unmasked read of a borrower's personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class PersonalDataRead(Base):
    """Who read which case's personal data, when, through what, and which fields it revealed.

    Append-only: a database trigger (migration 0002) refuses UPDATE and DELETE. It is kept apart
    from the hash-chained case history on purpose: appending to the chain bumps the case row's
    optimistic lock, so every read would race the engine steps of the case it reads.
    """

    __tablename__ = "personal_data_reads"
    __table_args__ = (
        Index("ix_personal_data_reads_case_at", "case_id", "at"),
        Index("ix_personal_data_reads_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSONType)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    loan_id: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    access: Mapped[str] = mapped_column(String(32))  # case_view | task_detail | history
    fields: Mapped[list[Any]] = mapped_column(JSONType)
