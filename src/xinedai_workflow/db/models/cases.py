"""Process instances ("cases") and the rows derived from their state at every step."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, JSONType, UTCDateTime


class Case(Base):
    """One running (or ended) workflow. `state` is the SpiffWorkflow state WITHOUT the spec."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_created", "status", "created_at"),
        Index("ix_cases_loan_status", "loan_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(100))
    process_key: Mapped[str] = mapped_column(String(200))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    definition_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element_id: Mapped[str | None] = mapped_column(String(200))
    # "one active overdue case per loan": set while active, cleared when the case ends
    singleton_key: Mapped[str | None] = mapped_column(String(320), unique=True)
    history_seq: Mapped[int] = mapped_column(Integer, default=0)
    history_head: Mapped[str] = mapped_column(String(64), default="")
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    # champion/challenger: the strategy variant the loan was assigned to (None outside a split)
    variant: Mapped[str | None] = mapped_column(String(64))

    # optimistic locking: every UPDATE checks and bumps lock_version (StaleDataError on a lost race)
    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class HumanTask(Base):
    """A user task as the inbox sees it. Kept after completion/cancellation (for 409s and KPIs)."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_inbox", "status", "lane", "priority", "due_sort", "created_at"),
        Index("ix_human_tasks_assignee", "assignee", "status"),
        # tasks:next: is this borrower (or loan) held by someone else right now?
        Index("ix_human_tasks_borrower_status", "borrower_id", "status"),
        Index("ix_human_tasks_loan_status", "loan_id", "status"),
        # readers of every lane (auditor, admin): open tasks in inbox order, without a sort
        Index(
            "ix_human_tasks_open_order",
            text("priority DESC"),
            "due_sort",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the SpiffWorkflow task id
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    form_file: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # open | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # due_at, or the far future when there is none: keeps the inbox order index-friendly
    due_sort: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    loan_id: Mapped[str] = mapped_column(String(100))
    # the case's borrower when the task was created (cases/borrower.py)
    borrower_id: Mapped[str | None] = mapped_column(String(200))


class Timer(Base):
    """A waiting timer with its due time; workers lease due rows and fire them."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("case_id", "task_id", name="uq_timers_case_task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageSubscription(Base):
    """A wait state that catches message `name` for the case's correlation value."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (
        Index("ix_message_subscriptions_lookup", "name", "correlation_value", "case_created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    correlation_value: Mapped[str] = mapped_column(String(200))
    case_created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BufferedMessage(Base):
    """A message accepted while its case was not waiting for it (delivered later, or expires)."""

    __tablename__ = "buffered_messages"
    __table_args__ = (Index("ix_buffered_messages_case", "case_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    message_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    correlation: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
