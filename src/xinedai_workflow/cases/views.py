"""Case and task views as the API shows them (same task objects in inbox and case view)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from ..db.models import Case, HumanTask
from ..domain.buckets import dpd_bucket
from ..domain.interest import InterestError, compute_claim
from ..domain.masking import mask_personal_data
from ..domain.money import MoneyError
from . import repository

DEFAULT_TIMEZONE = "Asia/Shanghai"


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


def _borrower_today(variables: Mapping[str, Any], now: datetime) -> date:
    borrower = variables.get("borrower")
    name = borrower.get("timezone") if isinstance(borrower, Mapping) else None
    try:
        zone = ZoneInfo(name if isinstance(name, str) and name else DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    return now.astimezone(zone).date()


def _payments(variables: Mapping[str, Any], due: date, as_of: date) -> list[dict[str, Any]]:
    """Payments the diagram recorded in the variable `payments` ({paid_on | paid_at, amount})."""
    found = []
    raw = variables.get("payments")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping) or "amount" not in item:
            continue
        when = item.get("paid_on") or item.get("paid_at")
        try:
            paid_on = date.fromisoformat(str(when)[:10])
        except ValueError:
            continue
        found.append({"paid_on": min(max(paid_on, due), as_of), "amount": item["amount"]})
    return found


def amounts_owed(variables: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """What the borrower owes today (their local date), from the domain's penalty-interest code.

    Needs the overdue event's figures (`overdue_principal`, `overdue_interest`, `annual_rate`,
    `due_date`); optional `penalty_uplift`, `day_count_basis`, `fees` and `payments`. None when the
    case does not carry them (e.g. a process that is not about an overdue loan).
    """
    if not all(k in variables for k in ("overdue_principal", "annual_rate", "due_date")):
        return None
    try:
        due = date.fromisoformat(str(variables["due_date"])[:10])
        as_of = max(_borrower_today(variables, now), due)
        claim = compute_claim(
            variables["overdue_principal"],
            variables.get("overdue_interest", "0"),
            due,
            as_of,
            variables["annual_rate"],
            penalty_uplift=variables.get("penalty_uplift", "0.5"),
            day_count_basis=int(variables.get("day_count_basis", 360)),
            fees=variables.get("fees", "0"),
            payments=_payments(variables, due, as_of),
        )
    except (InterestError, MoneyError, ValueError, TypeError, KeyError):
        return None
    outstanding = claim["outstanding"]
    dpd = int(claim["days_overdue"])
    return {
        "as_of": as_of.isoformat(),
        "days_past_due": dpd,
        "bucket": dpd_bucket(dpd).value,
        "principal": outstanding["principal"],
        "interest": outstanding["interest"],
        "penalty": outstanding["penalty"],
        "compound": outstanding["compound"],
        "fees": outstanding["fees"],
        "paid": claim["paid"],
        "total": outstanding["total"],
        "cap_exceeded": claim["cap"]["exceeds"],
        "claimable_total": claim["cap"]["capped_claim"],
    }


def waiting_of(session: Session, case: Case) -> list[dict[str, Any]]:
    waiting: list[dict[str, Any]] = [
        {"kind": "timer", "name": t.name, "due_at": t.due_at, "element_id": t.element_id}
        for t in repository.timers_of(session, case.id)
    ]
    seen: set[str] = set()
    for sub in repository.subscriptions_of(session, case.id):
        if sub.name not in seen:
            seen.add(sub.name)
            waiting.append(
                {"kind": "message", "name": sub.name, "due_at": None, "element_id": sub.element_id}
            )
    return waiting


def open_tasks_of(session: Session, case: Case, lanes: frozenset[str] | None = None) -> list[HumanTask]:
    """Open tasks of the case, highest priority and oldest due first; only `lanes` (None: all)."""
    rows = repository.tasks_of(session, case.id)
    tasks = [t for t in rows if t.status == "open" and (lanes is None or t.lane in lanes)]
    return sorted(tasks, key=lambda t: (-t.priority, t.due_sort, t.created_at, t.id))


def case_view(
    session: Session,
    case: Case,
    *,
    mask: bool,
    visible_lanes: frozenset[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The full case view. `visible_lanes` (None = all) limits which open tasks are listed;
    `now` (the injected clock) dates the amounts owed (an ended case: its end)."""
    tasks = open_tasks_of(session, case, visible_lanes)
    variables = mask_personal_data(case.variables) if mask else case.variables
    view = case_summary(case)
    view.update(
        {
            "variables": variables,
            "amounts": amounts_owed(case.variables, case.ended_at or now or case.updated_at),
            "open_tasks": [task_view(t) for t in tasks],
            "waiting": waiting_of(session, case),
            "error": {"message": case.error_message, "element_id": case.error_element_id}
            if case.status == "error" and case.error_message
            else None,
            "ended_at": case.ended_at,
        }
    )
    return view
