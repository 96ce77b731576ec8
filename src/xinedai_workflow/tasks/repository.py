"""Queries on human tasks: the inbox in its order (keyset paging), badge counts, the claim race."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, Table, and_, func, insert, or_, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..auth.principal import Principal
from ..auth.visibility import visible_tasks
from ..db.cursor import decode_cursor, encode_cursor
from ..db.models import Case, HistoryEntry, HumanTask
from ..errors import Invalid

INBOX_ORDER = (HumanTask.priority.desc(), HumanTask.due_sort, HumanTask.created_at, HumanTask.id)


def visible_task(session: Session, principal: Principal, task_id: uuid.UUID) -> HumanTask | None:
    return session.scalars(select(HumanTask).where(HumanTask.id == task_id, visible_tasks(principal))).first()


def visible_task_and_case(
    session: Session, principal: Principal, task_id: uuid.UUID
) -> tuple[HumanTask, Case] | None:
    """The task with its case, in one query (a task's case always exists)."""
    row = session.execute(
        select(HumanTask, Case)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.id == task_id, visible_tasks(principal))
    ).first()
    return (row[0], row[1]) if row is not None else None


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


_TASKS = cast(Table, HumanTask.__table__)
_CASES = cast(Table, Case.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)


def _of_case(column: Any) -> Any:
    """A column of the claimed task's case, read in the claim's RETURNING clause."""
    return select(column).where(_CASES.c.id == _TASKS.c.case_id).correlate(_TASKS).scalar_subquery()


CLAIM_RETURNING = (
    *_TASKS.c,
    _of_case(_CASES.c.history_seq).label("case_history_seq"),
    _of_case(_CASES.c.history_head).label("case_history_head"),
    _of_case(_CASES.c.definition_version).label("case_definition_version"),
    _of_case(_CASES.c.lock_version).label("case_lock_version"),
)


def claim_visible(
    session: Session, principal: Principal, task_id: uuid.UUID, now: datetime
) -> Row[Any] | None:
    """Claim the task if the caller sees it and it is open and free, in one statement: exactly one
    of concurrent claims wins (a conditional UPDATE on `assignee IS NULL`). The row answers the
    task as claimed and where its case's history chain and lock stand; None: nothing claimed."""
    return session.execute(
        update(_TASKS)
        .where(
            _TASKS.c.id == task_id,
            _TASKS.c.status == "open",
            _TASKS.c.assignee.is_(None),
            visible_tasks(principal),
        )
        .values(assignee=principal.sub, claimed_at=now)
        .returning(*CLAIM_RETURNING)
    ).first()


def record_case_step(session: Session, case_id: uuid.UUID, lock_version: int, values: dict[str, Any]) -> None:
    """UPDATE the case row under its optimistic lock (`values` plus the next lock_version);
    StaleDataError (the unit of work retries) when another step changed it first."""
    changed = session.execute(  # type: ignore[attr-defined]
        update(_CASES)
        .where(_CASES.c.id == case_id, _CASES.c.lock_version == lock_version)
        .values(**values, lock_version=lock_version + 1)
    ).rowcount
    if changed != 1:
        raise StaleDataError(f"case {case_id} changed concurrently (lock_version {lock_version})")


def insert_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """History entries as one (multi-row) INSERT."""
    if rows:
        session.execute(insert(_HISTORY), rows)


def recent_history(session: Session, case_id: uuid.UUID, limit: int) -> Sequence[HistoryEntry]:
    return session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.case_id == case_id)
        .order_by(HistoryEntry.seq.desc())
        .limit(limit)
    ).all()
