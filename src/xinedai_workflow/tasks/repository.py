"""Queries on human tasks: the inbox in its order (keyset paging), badge counts, the claim race."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import visible_tasks
from ..db.cursor import decode_cursor, encode_cursor
from ..db.models import HistoryEntry, HumanTask
from ..errors import Invalid

INBOX_ORDER = (HumanTask.priority.desc(), HumanTask.due_sort, HumanTask.created_at, HumanTask.id)


def visible_task(session: Session, principal: Principal, task_id: uuid.UUID) -> HumanTask | None:
    return session.scalars(select(HumanTask).where(HumanTask.id == task_id, visible_tasks(principal))).first()


def _after(cursor: str | None) -> ColumnElement[bool] | None:
    """The keyset condition "after this row" in inbox order (priority desc, due, created, id)."""
    after = decode_cursor(cursor, 4)
    if after is None:
        return None
    try:
        prio, due, created, last = (
            int(after[0]),
            datetime.fromisoformat(str(after[1])),
            datetime.fromisoformat(str(after[2])),
            uuid.UUID(str(after[3])),
        )
    except (TypeError, ValueError) as err:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]) from err
    if due.tzinfo is None or created.tzinfo is None:
        raise Invalid("cursor is not valid", details=[{"field": "cursor", "message": "malformed"}])
    same_prio = HumanTask.priority == prio
    same_due = and_(same_prio, HumanTask.due_sort == due)
    return or_(
        HumanTask.priority < prio,
        and_(same_prio, HumanTask.due_sort > due),
        and_(same_due, HumanTask.created_at > created),
        and_(same_due, HumanTask.created_at == created, HumanTask.id > last),
    )


def cursor_after(task: HumanTask) -> str:
    """The opaque cursor that continues the inbox after `task`."""
    return encode_cursor(
        [task.priority, task.due_sort.isoformat(), task.created_at.isoformat(), str(task.id)]
    )


def open_tasks(
    principal: Principal,
    assigned: str,
    group: str | None,
    case_id: uuid.UUID | None,
    stage: str | None,
    cursor: str | None = None,
) -> Select[Any]:
    """The caller's visible open tasks with the inbox filters, in inbox order."""
    query = select(HumanTask).where(HumanTask.status == "open", visible_tasks(principal))
    if assigned == "me":
        query = query.where(HumanTask.assignee == principal.sub)
    elif assigned == "unassigned":
        query = query.where(HumanTask.assignee.is_(None))
    if group:
        query = query.where(HumanTask.lane == group)
    if case_id:
        query = query.where(HumanTask.case_id == case_id)
    if stage:
        query = query.where(HumanTask.stage == stage)
    after = _after(cursor)
    if after is not None:
        query = query.where(after)
    return query.order_by(*INBOX_ORDER)


def badge_counts(session: Session, principal: Principal, now: datetime) -> list[tuple[Any, ...]]:
    """Per lane and stage: open, mine, unassigned and past-due counts of the visible open tasks."""
    query = (
        select(
            HumanTask.lane,
            HumanTask.stage,
            func.count(),
            func.sum(when((HumanTask.assignee == principal.sub, 1), else_=0)),
            func.sum(when((HumanTask.assignee.is_(None), 1), else_=0)),
            func.sum(when((HumanTask.due_at < now, 1), else_=0)),
        )
        .where(HumanTask.status == "open", visible_tasks(principal))
        .group_by(HumanTask.lane, HumanTask.stage)
    )
    return [tuple(row) for row in session.execute(query)]


def claim_if_free(session: Session, task_id: uuid.UUID, user: str, now: datetime) -> bool:
    """Exactly one of concurrent claims wins: a conditional UPDATE on `assignee IS NULL`."""
    won = session.execute(  # type: ignore[attr-defined]
        update(HumanTask)
        .where(HumanTask.id == task_id, HumanTask.status == "open", HumanTask.assignee.is_(None))
        .values(assignee=user, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(won)


def recent_history(session: Session, case_id: uuid.UUID, limit: int) -> Sequence[HistoryEntry]:
    return session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.case_id == case_id)
        .order_by(HistoryEntry.seq.desc())
        .limit(limit)
    ).all()
