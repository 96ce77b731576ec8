"""Leasing due rows in one statement each: `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`,
on PostgreSQL with FOR UPDATE SKIP LOCKED in the subquery (two workers never lease one row);
SQLite has a single writer anyway (the write transaction is `BEGIN IMMEDIATE`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from ..db.models import Case, OutboxMessage, Timer


def _skip_locked(session: Session, query: Select[Any], of: Any) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(of=of, skip_locked=True)
    return query


def lease_due_timers(
    session: Session, owner: str, now: datetime, batch: int, lease: timedelta
) -> list[tuple[int, uuid.UUID]]:
    """Claim up to `batch` due timers of active cases (oldest due first); return (timer id, case id)."""
    due = (
        select(Timer.id)
        .join(Case, Case.id == Timer.case_id)
        .where(
            Timer.due_at <= now,
            Case.status == "active",
            or_(Timer.lease_until.is_(None), Timer.lease_until < now),
        )
        .order_by(Timer.due_at, Timer.id)
        .limit(batch)
    )
    claimed = list(
        session.execute(
            update(Timer)
            .where(Timer.id.in_(_skip_locked(session, due, Timer).scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(Timer.id, Timer.case_id, Timer.due_at)
            .execution_options(synchronize_session=False)
        )
    )
    claimed.sort(key=lambda r: (r.due_at, r.id))  # RETURNING keeps no order
    return [(r.id, r.case_id) for r in claimed]


def lease_due_outbox(
    session: Session, owner: str, now: datetime, batch: int, lease: timedelta
) -> list[uuid.UUID]:
    """Claim up to `batch` pending outbox messages whose attempt is due (oldest due first)."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    claimed = list(
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(_skip_locked(session, due, OutboxMessage).scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(OutboxMessage.id, OutboxMessage.next_attempt_at)
            .execution_options(synchronize_session=False)
        )
    )
    claimed.sort(key=lambda r: (r.next_attempt_at, r.id))  # RETURNING keeps no order
    return [r.id for r in claimed]
