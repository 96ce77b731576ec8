"""The rows that mirror a case's engine state (open tasks, timers, message subscriptions): read
before a step (for one case, or for a batch of cases in one query per table), then brought in line
with the engine's snapshot after it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import isodate
from sqlalchemy import Select, String, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session, make_transient_to_detached

from ..db.models import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from ..db.models.cases import NO_DUE_DATE
from ..domain.borrower import borrower_key
from ..engine import Snapshot
from ..history.service import NewEntry

T = TypeVar("T")


@dataclass
class DerivedRows:
    """A case's rows that mirror its engine state, read once per step (or once per batch of cases)."""

    tasks: dict[uuid.UUID, HumanTask] = field(default_factory=dict)  # open tasks
    timers: dict[uuid.UUID, Timer] = field(default_factory=dict)
    subscriptions: dict[tuple[uuid.UUID, str], MessageSubscription] = field(default_factory=dict)
    # None: unknown (looked up when the case waits for a message); False/True: known
    has_buffered: bool | None = None


# One UNION ALL over the three tables (and the buffered messages): each branch fills its own
# columns and leaves the others NULL, so one statement reads all of a step's derived rows.
_KINDS = (("task", HumanTask), ("timer", Timer), ("subscription", MessageSubscription))
_COLUMNS = [(kind, column) for kind, model in _KINDS for column in model.__table__.columns]


def _branch(kind: str, model: type[Any], ids: list[uuid.UUID]) -> Select[Any]:
    table = model.__table__
    columns = [
        column if owner == kind else cast(null(), column.type).label(f"{owner}__{column.key}")
        for owner, column in _COLUMNS
    ]
    return select(literal_column(f"'{kind}'", String).label("kind"), *columns).where(table.c.case_id.in_(ids))


def _buffered_branch(ids: list[uuid.UUID]) -> Select[Any]:
    table = BufferedMessage.__table__
    columns = [
        table.c.case_id if (owner, column.key) == ("task", "case_id") else cast(null(), column.type)
        for owner, column in _COLUMNS
    ]
    return (
        select(literal_column("'buffered'", String).label("kind"), *columns)
        .where(table.c.case_id.in_(ids))
        .distinct()
    )


def _attach(session: Session, model: type[T], values: dict[str, Any]) -> T:
    """The session's object for this row if it holds one (its in-session changes win, as with an
    ORM query), else a persistent object built from the values (no ORM loading machinery)."""
    existing = session.identity_map.get(session.identity_key(model, values["id"]))
    if existing is not None:
        return existing
    obj = model(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def load_derived(
    session: Session, case_ids: Sequence[uuid.UUID], with_buffered: bool = False
) -> dict[uuid.UUID, DerivedRows]:
    """The derived rows of many cases in one query (instead of one per case and table)."""
    derived = {case_id: DerivedRows() for case_id in case_ids}
    if not derived:
        return derived
    ids = list(derived)
    # by case only: with `status = 'open'` in the query SQLite may pick the inbox index (status
    # first) and read every open task of the service; a case's ended tasks are few
    branches = [_branch(kind, model, ids) for kind, model in _KINDS]
    if with_buffered:
        branches.append(_buffered_branch(ids))
        for rows in derived.values():
            rows.has_buffered = False
    slices: dict[str, tuple[int, int]] = {}
    offset = 1
    for kind, model in _KINDS:
        width = len(model.__table__.columns)
        slices[kind] = (offset, offset + width)
        offset += width
    keys = {kind: [c.key for c in model.__table__.columns] for kind, model in _KINDS}
    for row in session.execute(union_all(*branches)):
        kind = row[0]
        if kind == "buffered":
            derived[row[slices["task"][0] + keys["task"].index("case_id")]].has_buffered = True
            continue
        start, end = slices[kind]
        values = dict(zip(keys[kind], row[start:end], strict=True))
        rows = derived[values["case_id"]]
        if kind == "task":
            task = _attach(session, HumanTask, values)
            if task.status == "open":
                rows.tasks[task.id] = task
        elif kind == "timer":
            timer = _attach(session, Timer, values)
            rows.timers[timer.task_id] = timer
        else:
            sub = _attach(session, MessageSubscription, values)
            rows.subscriptions[(sub.task_id, sub.name)] = sub
    return derived


def _due_at(due_in: str | None, now: datetime) -> datetime | None:
    if not due_in:
        return None
    try:
        return now + isodate.parse_duration(due_in)
    except (isodate.ISO8601Error, ValueError, OverflowError):
        return None


def sync_tasks(
    session: Session,
    case: Case,
    snapshot: Snapshot,
    now: datetime,
    derived: DerivedRows,
    default_group: str,
) -> list[NewEntry]:
    """Cancel the open task rows the engine no longer has and add the new ones (claims of the
    tasks that stay open are untouched); return the history entries."""
    entries = []
    rows = {task_id: t for task_id, t in derived.tasks.items() if t.status == "open"}
    wanted = {t.task_id: t for t in snapshot.open_tasks}
    for task_id, row in rows.items():
        if task_id not in wanted:
            del derived.tasks[task_id]
            row.status = "cancelled"
            row.ended_at = now
            entries.append(NewEntry("task_cancelled", "system", row.element_id, {"task_id": str(task_id)}))
    for task_id, task in wanted.items():
        if task_id in rows:
            continue
        due_at = _due_at(task.due_in, now)
        derived.tasks[task_id] = row = HumanTask(
            id=task_id,
            case_id=case.id,
            element_id=task.element_id,
            title=task.title[:500],
            lane=task.lane or default_group,
            stage=task.stage or case.stage,
            priority=task.priority,
            form_file=task.form_file,
            status="open",
            due_at=due_at,
            due_sort=due_at or NO_DUE_DATE,
            created_at=now,
            loan_id=case.loan_id,
            borrower_id=borrower_key(case.variables, case.loan_id),
        )
        session.add(row)
        entries.append(
            NewEntry("task_created", "system", task.element_id, {"task_id": str(task_id), "lane": task.lane})
        )
    return entries


def sync_waits(session: Session, case: Case, snapshot: Snapshot, derived: DerivedRows) -> None:
    """Timer rows (with their due times) and message subscriptions as the snapshot has them."""
    timers = derived.timers
    wanted_timers = {t.task_id: t for t in snapshot.timers}
    for task_id, row in list(timers.items()):
        if task_id not in wanted_timers:
            del timers[task_id]
            session.delete(row)
        elif row.due_at != wanted_timers[task_id].due_at:
            row.due_at = wanted_timers[task_id].due_at
            row.lease_owner = row.lease_until = None
    for task_id, timer in wanted_timers.items():
        if task_id not in timers:
            timers[task_id] = Timer(
                case_id=case.id,
                task_id=task_id,
                element_id=timer.element_id,
                name=timer.name[:500],
                due_at=timer.due_at,
            )
            session.add(timers[task_id])
    subs = derived.subscriptions
    wanted_subs = {(m.task_id, m.name): m for m in snapshot.messages}
    for key, sub in list(subs.items()):
        if key not in wanted_subs:
            del subs[key]
            session.delete(sub)
    for key, message in wanted_subs.items():
        if key not in subs:
            subs[key] = MessageSubscription(
                case_id=case.id,
                task_id=message.task_id,
                element_id=message.element_id,
                name=message.name,
                correlation_value=case.loan_id,
                case_created_at=case.created_at,
            )
            session.add(subs[key])


def refresh_kept_rows(derived: DerivedRows, snapshot: Snapshot) -> None:
    """After a move to another version: the open tasks and timers that kept their ids take the new
    element's id, title, lane, stage, priority and form (claims and due times stay)."""
    for task in snapshot.open_tasks:
        row = derived.tasks.get(task.task_id)
        if row is None:
            continue
        row.element_id = task.element_id
        row.title = task.title[:500]
        row.lane = task.lane or row.lane
        row.stage = task.stage or row.stage
        row.priority = task.priority
        row.form_file = task.form_file
    for timer in snapshot.timers:
        timer_row = derived.timers.get(timer.task_id)
        if timer_row is not None:
            timer_row.element_id = timer.element_id
            timer_row.name = timer.name[:500]
    for message in snapshot.messages:
        for (task_id, _name), sub in derived.subscriptions.items():
            if task_id == message.task_id:
                sub.element_id = message.element_id
