"""Queries of batches: selecting cases and loans by filter, items, leases and progress."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..db.models import Batch, BatchItem, Case
from ..runtime import ENDED
from .schemas import BatchFilter

IN_CHUNK = 5_000  # values per IN (...): below SQLite's and PostgreSQL's parameter limits
ERRORS_LISTED = 1_000


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _case_query(visible: ColumnElement[bool], where: BatchFilter) -> Select[uuid.UUID, str]:
    query = select(Case.id, Case.loan_id).where(visible)
    if where.process_key is not None:
        query = query.where(Case.process_key == where.process_key)
    if where.version is not None:
        query = query.where(Case.definition_version == where.version)
    if where.status is not None:
        query = query.where(Case.status == where.status)
    else:
        query = query.where(Case.status.not_in(sorted(ENDED)))
    if where.stage is not None:
        query = query.where(Case.stage == where.stage)
    return query.order_by(Case.created_at, Case.id)


def select_cases(
    session: Session, visible: ColumnElement[bool], where: BatchFilter
) -> list[tuple[uuid.UUID, str]]:
    """(case id, loan id) of the cases the filter selects, oldest first."""
    query = _case_query(visible, where)
    if where.loan_ids is None:
        return [(case_id, loan_id) for case_id, loan_id in session.execute(query)]
    found: list[tuple[uuid.UUID, str]] = []
    for part in _chunks(sorted(set(where.loan_ids))):
        found += [(c, loan) for c, loan in session.execute(query.where(Case.loan_id.in_(part)))]
    return found


def select_loans(session: Session, visible: ColumnElement[bool], where: BatchFilter) -> list[str]:
    """The loans a contact pause applies to: the listed `loan_ids` (with or without a case yet)
    when the filter names no other condition, else the loans of the selected cases (any status)."""
    only_loans = (
        where.loan_ids is not None
        and where.process_key is None
        and where.version is None
        and where.status is None
        and where.stage is None
    )
    if only_loans and where.loan_ids is not None:
        return sorted(set(where.loan_ids))
    query = select(Case.loan_id).where(visible).distinct()
    if where.process_key is not None:
        query = query.where(Case.process_key == where.process_key)
    if where.version is not None:
        query = query.where(Case.definition_version == where.version)
    if where.status is not None:
        query = query.where(Case.status == where.status)
    if where.stage is not None:
        query = query.where(Case.stage == where.stage)
    if where.loan_ids is None:
        return sorted(session.scalars(query))
    loans: set[str] = set()
    for part in _chunks(sorted(set(where.loan_ids))):
        loans.update(session.scalars(query.where(Case.loan_id.in_(part))))
    return sorted(loans)


def add_items(session: Session, batch_id: uuid.UUID, rows: Sequence[tuple[uuid.UUID | None, str]]) -> None:
    """The batch's items in multi-row INSERTs."""
    values = [{"batch_id": batch_id, "case_id": c, "loan_id": loan, "status": "pending"} for c, loan in rows]
    for start in range(0, len(values), IN_CHUNK):
        session.execute(insert(BatchItem), values[start : start + IN_CHUNK])


def lease_items(session: Session, owner: str, now: datetime, chunk: int, lease: timedelta) -> list[int]:
    """Claim up to `chunk` pending items of pending or running batches (oldest batch first)."""
    query = (
        select(BatchItem.id)
        .join(Batch, Batch.id == BatchItem.batch_id)
        .where(
            BatchItem.status == "pending",
            Batch.status.in_(("pending", "running")),
            or_(BatchItem.lease_until.is_(None), BatchItem.lease_until < now),
        )
        .order_by(Batch.created_at, BatchItem.id)
        .limit(chunk)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=BatchItem, skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(BatchItem)
            .where(BatchItem.id.in_(ids))
            .values(lease_owner=owner, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return ids


def progress(session: Session, batch_id: uuid.UUID) -> dict[str, int]:
    """How many items of the batch are in each status."""
    rows = session.execute(
        select(BatchItem.status, func.count())
        .where(BatchItem.batch_id == batch_id)
        .group_by(BatchItem.status)
    )
    return {status: count for status, count in rows}


def errors(session: Session, batch_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.execute(
        select(BatchItem.case_id, BatchItem.loan_id, BatchItem.error)
        .where(BatchItem.batch_id == batch_id, BatchItem.status == "failed")
        .order_by(BatchItem.id)
        .limit(ERRORS_LISTED)
    )
    return [
        {"case_id": str(c) if c is not None else None, "loan_id": loan, "error": e or ""}
        for c, loan, e in rows
    ]


def skip_pending(session: Session, batch_id: uuid.UUID, now: datetime) -> None:
    """A cancelled batch: its items not yet run are skipped."""
    session.execute(
        update(BatchItem)
        .where(BatchItem.batch_id == batch_id, BatchItem.status == "pending")
        .values(status="skipped", finished_at=now, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def pending_left(session: Session, batch_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(BatchItem.id).where(BatchItem.batch_id == batch_id, BatchItem.status == "pending").limit(1)
        )
        is not None
    )
