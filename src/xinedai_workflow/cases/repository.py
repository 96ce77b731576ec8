"""Queries on cases: by the loan's one-collecting-case slot, by a waiting message, by visibility."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ..db.models import Case, HumanTask, IdempotencyKey, MessageSubscription, Timer


def singleton_key(process_key: str, loan_id: str) -> str:
    """The value that keeps one collecting case of `process_key` per loan (a unique column; a case
    gives it up once its collection is over, see `domain.case_rules.end_collection`)."""
    return f"{process_key}:{loan_id}"


def singleton_case(session: Session, process_key: str, loan_id: str) -> Case | None:
    """The loan's collecting (or failed) case of `process_key`, if any; not one in review."""
    return session.scalars(
        select(Case).where(Case.singleton_key == singleton_key(process_key, loan_id))
    ).first()


def loans_with_singleton(session: Session, process_key: str, loan_ids: Iterable[str]) -> set[str]:
    """Which of `loan_ids` hold a case of `process_key` in their slot."""
    prefix = singleton_key(process_key, "")
    keys = session.scalars(
        select(Case.singleton_key).where(Case.singleton_key.in_({prefix + loan for loan in loan_ids}))
    )
    return {key.removeprefix(prefix) for key in keys if key is not None}


def prior_case_counts(session: Session, process_key: str, loan_ids: Iterable[str]) -> dict[str, int]:
    """How many cases of `process_key` each of `loan_ids` had so far (its earlier overdue episodes);
    loans with none are left out."""
    rows = session.execute(
        select(Case.loan_id, func.count())
        .where(Case.process_key == process_key, Case.loan_id.in_(set(loan_ids)))
        .group_by(Case.loan_id)
    )
    return {loan: count for loan, count in rows}


def known_event_ids(session: Session, scope: str, keys: Iterable[str]) -> set[str]:
    """Which idempotency keys of `scope` were already used."""
    return set(
        session.scalars(
            select(IdempotencyKey.key).where(IdempotencyKey.scope == scope, IdempotencyKey.key.in_(set(keys)))
        )
    )


def waiting_case(session: Session, name: str, loan_id: str) -> Case | None:
    """The oldest active case of the loan with a wait state catching message `name`."""
    case_id = session.scalars(
        select(MessageSubscription.case_id)
        .join(Case, Case.id == MessageSubscription.case_id)
        .where(
            MessageSubscription.name == name,
            MessageSubscription.correlation_value == loan_id,
            Case.status == "active",
        )
        .order_by(MessageSubscription.case_created_at, MessageSubscription.case_id)
        .limit(1)
    ).first()
    return session.get(Case, case_id) if case_id is not None else None


def active_case(session: Session, process_key: str, loan_id: str) -> Case | None:
    """The loan's running case of `process_key`, else its oldest active or failed case."""
    singleton = singleton_case(session, process_key, loan_id)
    if singleton is not None:
        return singleton
    return session.scalars(
        select(Case)
        .where(Case.loan_id == loan_id, Case.status.in_(("active", "error")))
        .order_by(Case.created_at, Case.id)
        .limit(1)
    ).first()


def cases_by_ids(session: Session, case_ids: Sequence[uuid.UUID]) -> Sequence[Case]:
    return session.scalars(select(Case).where(Case.id.in_(case_ids))).all()


def list_cases(
    session: Session,
    visible: ColumnElement[bool],
    *,
    status: str | None,
    stage: str | None,
    loan_id: str | None,
    process_key: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Case]:
    """Visible cases, newest first, after the keyset position `after` (created_at, id)."""
    query = select(Case).where(visible)
    if status:
        query = query.where(Case.status == status)
    if stage:
        query = query.where(Case.stage == stage)
    if loan_id:
        query = query.where(Case.loan_id == loan_id)
    if process_key:
        query = query.where(Case.process_key == process_key)
    if after is not None:
        created, last_id = after
        query = query.where(
            or_(Case.created_at < created, and_(Case.created_at == created, Case.id < last_id))
        )
    return list(session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)))


def timers_of(session: Session, case_id: uuid.UUID) -> Sequence[Timer]:
    """The case's waiting timers, soonest first."""
    return session.scalars(select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at)).all()


def subscriptions_of(session: Session, case_id: uuid.UUID) -> Sequence[MessageSubscription]:
    """The messages the case waits for, in the order the waits began."""
    return session.scalars(
        select(MessageSubscription)
        .where(MessageSubscription.case_id == case_id)
        .order_by(MessageSubscription.id)
    ).all()


def tasks_of(session: Session, case_id: uuid.UUID) -> Sequence[HumanTask]:
    """Every task row of the case (open and ended)."""
    # By case only, filtered by the caller: with status and lanes in the query SQLite prefers the
    # inbox index (status, lane, priority, ...) and reads every open task of the lanes.
    return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).all()
