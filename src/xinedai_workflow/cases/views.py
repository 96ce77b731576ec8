"""Case and task views as the API shows them (same task objects in inbox and case view)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Case, HumanTask, MessageSubscription, Timer
from ..domain.masking import mask_personal_data


def task_view(row: HumanTask) -> dict[str, Any]:
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


def waiting_of(session: Session, case: Case) -> list[dict[str, Any]]:
    waiting: list[dict[str, Any]] = [
        {"kind": "timer", "name": t.name, "due_at": t.due_at, "element_id": t.element_id}
        for t in session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at))
    ]
    seen: set[str] = set()
    for sub in session.scalars(
        select(MessageSubscription)
        .where(MessageSubscription.case_id == case.id)
        .order_by(MessageSubscription.id)
    ):
        if sub.name not in seen:
            seen.add(sub.name)
            waiting.append(
                {"kind": "message", "name": sub.name, "due_at": None, "element_id": sub.element_id}
            )
    return waiting


def open_tasks_of(session: Session, case: Case) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.case_id == case.id, HumanTask.status == "open")
            .order_by(HumanTask.priority.desc(), HumanTask.created_at)
        )
    )


def case_view(
    session: Session, case: Case, *, mask: bool, visible_lanes: frozenset[str] | None = None
) -> dict[str, Any]:
    """The full case view. `visible_lanes` (None = all) limits which open tasks are listed."""
    tasks = [t for t in open_tasks_of(session, case) if visible_lanes is None or t.lane in visible_lanes]
    variables = mask_personal_data(case.variables) if mask else case.variables
    view = case_summary(case)
    view.update(
        {
            "variables": variables,
            "open_tasks": [task_view(t) for t in tasks],
            "waiting": waiting_of(session, case),
            "error": {"message": case.error_message, "element_id": case.error_element_id}
            if case.status == "error" and case.error_message
            else None,
            "ended_at": case.ended_at,
        }
    )
    return view
