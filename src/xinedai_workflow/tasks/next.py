"""`POST /tasks:next`: claim the highest-priority open task the caller may work, atomically.

One person per borrower at a time: a task is skipped while another person holds (has claimed)
an open task of the same borrower — by loan, or by `borrower.id` across the borrower's loans —
so two collectors never phone the same person in parallel. The pick runs inside one write unit
of work: on PostgreSQL it takes the borrower's transaction-scoped advisory lock (the one the
contact guard uses) and re-checks the holders under it; SQLite has one writer. The claim itself
is the same conditional UPDATE (`assignee IS NULL`) as a plain claim, so a concurrent claim of
the same task loses cleanly and the picker moves on to the next candidate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases.access import visible_tasks
from ..compliance.repository import lock_borrower
from ..db.models import Case, HumanTask

CANDIDATE_BATCH = 50


def borrower_key(case_variables: dict[str, Any] | None, loan_id: str) -> str:
    """The borrower a case belongs to, as the contact policy counts it (`loan:<id>` without one)."""
    person = (case_variables or {}).get("borrower")
    raw = person.get("id") if isinstance(person, dict) else None
    return str(raw)[:200] if raw not in (None, "") else f"loan:{loan_id}"[:200]


def _held_by_others(session: Session, me: str) -> tuple[set[str], set[str]]:
    """Loans and borrowers of open tasks that someone other than `me` has claimed."""
    rows = session.execute(
        select(HumanTask.loan_id, Case.variables)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.status == "open", HumanTask.assignee.is_not(None), HumanTask.assignee != me)
    )
    loans: set[str] = set()
    borrowers: set[str] = set()
    for loan_id, variables in rows:
        loans.add(loan_id)
        borrowers.add(borrower_key(variables, loan_id))
    return loans, borrowers


def _holder_of_borrower(session: Session, me: str, borrower: str, loan_id: str) -> bool:
    loans, borrowers = _held_by_others(session, me)
    return loan_id in loans or borrower in borrowers


def pick_next(
    session: Session,
    principal: Principal,
    now: datetime,
    order: tuple[Any, ...],
    group: str | None = None,
    stage: str | None = None,
) -> HumanTask | None:
    """Claim and return the first free task in inbox order, or None when nothing is available."""
    held_loans, held_borrowers = _held_by_others(session, principal.sub)
    query = (
        select(HumanTask, Case.variables)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.status == "open", HumanTask.assignee.is_(None), visible_tasks(principal))
    )
    if group:
        query = query.where(HumanTask.lane == group)
    if stage:
        query = query.where(HumanTask.stage == stage)
    if held_loans:
        query = query.where(HumanTask.loan_id.not_in(sorted(held_loans)))
    offset = 0
    while True:
        batch = session.execute(query.order_by(*order).offset(offset).limit(CANDIDATE_BATCH)).all()
        if not batch:
            return None
        offset += len(batch)
        for task, variables in batch:
            borrower = borrower_key(variables, task.loan_id)
            if borrower in held_borrowers:
                continue
            lock_borrower(session, borrower)
            if session.get_bind().dialect.name == "postgresql" and _holder_of_borrower(
                session, principal.sub, borrower, task.loan_id
            ):
                held_borrowers.add(borrower)
                continue  # someone took this borrower between our read and the lock
            won = session.execute(  # type: ignore[attr-defined]
                update(HumanTask)
                .where(HumanTask.id == task.id, HumanTask.status == "open", HumanTask.assignee.is_(None))
                .values(assignee=principal.sub, claimed_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won:
                session.refresh(task)
                return task
