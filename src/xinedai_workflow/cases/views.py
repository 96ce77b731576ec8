"""Case and task views as the API shows them (same task objects in inbox and case view)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row
from sqlalchemy.orm import Session

from ..db.models import Case, HumanTask, MessageSubscription, Timer
from ..domain.claim import case_amounts
from ..domain.masking import mask_personal_data
from ..domain.values import zone_of
from . import repository


def task_view(row: HumanTask | Row[Any]) -> dict[str, Any]:
    """A task as the API shows it, from its ORM object or a row of its columns."""
    return {
        "task_id": str(row.id),
        "case_id": str(row.case_id),
        "loan_id": row.loan_id,
        "name": row.element_id,
        "title": row.title,
        "lane": row.lane,
        "stage": row.stage,
        "assignee": row.assignee,
        "priority": row.priority,
        "due_at": row.due_at,
        "created_at": row.created_at,
        "status": row.status,
    }


def case_summary(case: Case) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "loan_id": case.loan_id,
        "status": case.status,
        "stage": case.stage,
        "outcome": case.outcome,
        "definition": {"key": case.process_key, "version": case.definition_version},
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def amounts_owed(variables: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """What the borrower owes today (their local date): the one claim computation of
    `domain/claim.py`, on the case's ledger (or its overdue figures). None when the case does not
    carry them (e.g. a process that is not about an overdue loan)."""
    return case_amounts(variables, now)


class CaseRows(NamedTuple):
    """A case's open tasks, timers and message subscriptions as a step just saved them."""

    tasks: list[HumanTask]
    timers: list[Timer]
    subscriptions: list[MessageSubscription]


def waiting_of(session: Session, case: Case, rows: CaseRows | None = None) -> list[dict[str, Any]]:
    """Timers (soonest first), then the messages the case waits for (in the order the waits
    began), from `rows` when given, else from the database."""
    if rows is not None:
        timers: Sequence[Timer] = sorted(rows.timers, key=lambda t: t.due_at)
        # a new row has no id yet: it began waiting after every stored one (in the order added)
        subs: Sequence[MessageSubscription] = sorted(
            rows.subscriptions, key=lambda s: (s.id is None, s.id or 0)
        )
    else:
        timers = repository.timers_of(session, case.id)
        subs = repository.subscriptions_of(session, case.id)
    waiting: list[dict[str, Any]] = [
        {"kind": "timer", "name": t.name, "due_at": t.due_at, "element_id": t.element_id} for t in timers
    ]
    seen: set[str] = set()
    for sub in subs:
        if sub.name not in seen:
            seen.add(sub.name)
            waiting.append(
                {"kind": "message", "name": sub.name, "due_at": None, "element_id": sub.element_id}
            )
    return waiting


def next_step_of(
    case: Case, visible_tasks: list[HumanTask], waiting: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Why the caller sees no open task on an active case: the timer it waits for (e.g. the
    borrower's calling hours), else the message; None when a task is open or the case ended."""
    if case.status != "active" or visible_tasks:
        return None
    variables = case.variables or {}
    borrower = variables.get("borrower")
    zone_name = borrower.get("timezone") if isinstance(borrower, Mapping) else None
    zone = zone_of(zone_name)
    timers = [w for w in waiting if w["kind"] == "timer" and w["due_at"] is not None]
    if timers:
        timer = timers[0]
        until = timer["due_at"] if timer["due_at"].tzinfo else timer["due_at"].replace(tzinfo=UTC)
        local = until.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return {
            "reason": "waiting_for_timer",
            "name": timer["name"],
            "element_id": timer["element_id"],
            "until": until,
            "until_local": local,
            "timezone": zone.key,
            "message": f"No task is open now: the case waits for '{timer['name']}' until {local} "
            f"({zone.key}, the borrower's local time); the next task opens then.",
            "message_zh": f"当前没有待办任务：案件正在等待“{timer['name']}”，"
            f"至借款人当地时间 {local}（{zone.key}），届时生成下一个任务。",
        }
    messages = [w["name"] for w in waiting if w["kind"] == "message"]
    if messages:
        names = ", ".join(messages)
        return {
            "reason": "waiting_for_message",
            "name": messages[0],
            "message": f"No task is open now: the case waits for a message ({names}).",
            "message_zh": f"当前没有待办任务：案件正在等待消息（{names}）。",
        }
    return {
        "reason": "no_visible_task",
        "message": "No task of your groups is open on this case now.",
        "message_zh": "当前没有属于您所在组的待办任务。",
    }


def open_tasks_of(
    session: Session,
    case: Case,
    lanes: frozenset[str] | None = None,
    known: Sequence[HumanTask] | None = None,
) -> list[HumanTask]:
    """Open tasks of the case, highest priority and oldest due first; only `lanes` (None: all).
    `known`: the case's task rows when the caller holds them (else they are read)."""
    rows = known if known is not None else repository.tasks_of(session, case.id)
    tasks = [t for t in rows if t.status == "open" and (lanes is None or t.lane in lanes)]
    return sorted(tasks, key=lambda t: (-t.priority, t.due_sort, t.created_at, t.id))


def case_view(
    session: Session,
    case: Case,
    *,
    mask: bool,
    visible_lanes: frozenset[str] | None = None,
    now: datetime | None = None,
    rows: CaseRows | None = None,
) -> dict[str, Any]:
    """The full case view. `visible_lanes` (None = all) limits which open tasks are listed;
    `now` (the injected clock) dates the amounts owed (an ended case: its end); `rows`: the
    case's derived rows when the caller holds them (a step that just saved them)."""
    tasks = open_tasks_of(session, case, visible_lanes, rows.tasks if rows is not None else None)
    variables = mask_personal_data(case.variables) if mask else case.variables
    view = case_summary(case)
    waiting = waiting_of(session, case, rows)
    view.update(
        {
            "variables": variables,
            "amounts": amounts_owed(case.variables, case.ended_at or now or case.updated_at),
            "open_tasks": [task_view(t) for t in tasks],
            "waiting": waiting,
            "next_step": next_step_of(case, tasks, waiting),
            "error": {"message": case.error_message, "element_id": case.error_element_id}
            if case.status == "error" and case.error_message
            else None,
            "ended_at": case.ended_at,
        }
    )
    return view
