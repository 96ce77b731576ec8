"""Leasing due rows: on PostgreSQL with FOR UPDATE SKIP LOCKED; SQLite has a single writer anyway."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..db.models import Case, OutboxMessage, Timer


def lease_due_timers(
    session: Session, owner: str, now: datetime, batch: int, lease: timedelta
) -> list[tuple[int, uuid.UUID]]:
    """Claim up to `batch` due timers of active cases (oldest due first); return (timer id, case id)."""
    query = (
        select(Timer.id, Timer.case_id)
        .join(Case, Case.id == Timer.case_id)
        .where(
            Timer.due_at <= now,
            Case.status == "active",
            or_(Timer.lease_until.is_(None), Timer.lease_until < now),
        )
        .order_by(Timer.due_at, Timer.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Timer, skip_locked=True)
    rows = [(timer_id, case_id) for timer_id, case_id in session.execute(query)]
    if rows:
        session.execute(
            update(Timer)
            .where(Timer.id.in_([r[0] for r in rows]))
            .values(lease_owner=owner, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return rows


def lease_due_outbox(
    session: Session, owner: str, now: datetime, batch: int, lease: timedelta
) -> list[uuid.UUID]:
    """Claim up to `batch` pending outbox messages whose attempt is due."""
    query = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(lease_owner=owner, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return ids
