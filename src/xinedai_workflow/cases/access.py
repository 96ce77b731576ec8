"""Who may see a case: readers of everything, and people who work (or supervise) one of its tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..db.models import Case, HumanTask


def _works_clause(principal: Principal, case_id: Any) -> ColumnElement[bool]:
    conditions = [HumanTask.assignee == principal.sub, HumanTask.completed_by == principal.sub]
    if principal.groups:
        conditions.append(HumanTask.lane.in_(sorted(principal.groups)))
    return exists(select(HumanTask.id).where(HumanTask.case_id == case_id, or_(*conditions)))


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `Case` limiting rows to what the principal may see."""
    if principal.reads_everything:
        return true()
    if principal.works_tasks:
        return _works_clause(principal, Case.id)
    return Case.id.is_(None)  # nobody else sees cases


def can_see(session: Session, principal: Principal, case: Case) -> bool:
    if principal.reads_everything:
        return True
    if not principal.works_tasks:
        return False
    found = session.execute(
        select(Case.id).where(Case.id == case.id, _works_clause(principal, Case.id))
    ).first()
    return found is not None


def works_case(session: Session, principal: Principal, case: Case) -> bool:
    """Whether the caller needs the borrower's personal data for this case (unmasked)."""
    if principal.is_admin or principal.has("system"):
        return True
    if not principal.works_tasks:
        return False
    return can_see(session, principal, case)
