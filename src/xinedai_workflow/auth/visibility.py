"""Who may see what.

- Tasks: a worker (collector, legal, mediator, supervisor) sees the tasks whose lane is one of
  their `groups`; auditors and admins see every task. Being the assignee does not widen this: a
  user removed from a group loses that group's tasks.
- Cases: system, compliance, auditor and admin see every case; a worker sees a case when one of
  its tasks (open or ended) is in one of their lanes. In the case view a worker sees only the
  open tasks of their lanes.
- Personal data is shown unmasked to the people who work the case (a worker of one of its lanes),
  to `system` (it sent the data) and to `admin`; everyone else gets it masked.

- Incidents: a case in `error` that has no human task yet (it failed before offering any work) is
  in no lane; it belongs to the default group (the group of tasks outside any lane), so a
  supervisor of that group sees it and can retry it. Collectors still see only their lanes' cases.

Anything not visible answers 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..db.models import Case, HumanTask


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `HumanTask` limiting rows to the tasks the principal may see."""
    if principal.sees_all_tasks:
        return true()
    if not principal.lanes:
        return false()
    return HumanTask.lane.in_(sorted(principal.lanes))


def _works_clause(principal: Principal, case_id: Any) -> ColumnElement[bool]:
    if not principal.lanes:
        return false()
    return exists(
        select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.lane.in_(sorted(principal.lanes)))
    )


def _unassigned_incident(principal: Principal, default_group: str | None) -> ColumnElement[bool]:
    """Cases in error with no task at all, for supervisors of the default group."""
    if not default_group or "supervisor" not in principal.roles or default_group not in principal.lanes:
        return false()
    return and_(Case.status == "error", ~exists(select(HumanTask.id).where(HumanTask.case_id == Case.id)))


def visible_cases(principal: Principal, default_group: str | None = None) -> ColumnElement[bool]:
    """A WHERE clause on `Case` limiting rows to what the principal may see."""
    if principal.reads_everything:
        return true()
    return or_(_works_clause(principal, Case.id), _unassigned_incident(principal, default_group))


def _works(session: Session, principal: Principal, case: Case) -> bool:
    if not principal.lanes:
        return False
    return bool(session.execute(select(_works_clause(principal, case.id))).scalar())


def can_see(session: Session, principal: Principal, case: Case, default_group: str | None) -> bool:
    """Whether the principal may see the case. `default_group` is the group of tasks outside any
    lane (a setting): its supervisors also see the taskless cases in error; None: nobody does."""
    if principal.reads_everything or _works(session, principal, case):
        return True
    if case.status != "error" or not default_group:
        return False
    clause = _unassigned_incident(principal, default_group)
    return bool(session.execute(select(Case.id).where(Case.id == case.id, clause)).first())


def works_case(session: Session, principal: Principal, case: Case) -> bool:
    """Whether the caller needs the borrower's personal data for this case (unmasked)."""
    if principal.is_admin or principal.has("system"):
        return True
    return _works(session, principal, case)


def can_see_task(principal: Principal, task: HumanTask) -> bool:
    return principal.sees_all_tasks or principal.works_lane(task.lane)


def works_task(principal: Principal, task: HumanTask) -> bool:
    """Whether the caller works this task (and so sees the borrower's personal data unmasked)."""
    return principal.is_admin or principal.works_lane(task.lane)


def visible_lanes(principal: Principal) -> frozenset[str] | None:
    """The lanes whose open tasks the caller sees in a case view (None: all)."""
    if principal.reads_everything or principal.sees_all_tasks:
        return None
    return principal.lanes
