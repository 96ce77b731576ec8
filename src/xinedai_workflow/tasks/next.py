"""`POST /tasks:next`: claim the highest-priority open task the caller may work, atomically.

One person per borrower at a time: a task is skipped while another person holds (has claimed) an
open task of the same loan or the same borrower (`human_tasks.borrower_id`, the contact policy's
borrower key), so two collectors never phone the same person in parallel. Both checks are
anti-joins on indexed columns inside the candidate query. The pick runs in one write unit of
work: on PostgreSQL the borrower's transaction-scoped advisory lock (the one the contact guard
uses) is taken and the hold re-checked under it; SQLite has one writer. The claim is the same
conditional UPDATE (`assignee IS NULL`) as a plain claim, so a concurrent claim of the same task
loses cleanly and the picker moves on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..auth.principal import Principal
from ..auth.visibility import visible_tasks
from ..compliance.repository import lock_borrower
from ..db.models import HumanTask
from ..domain.borrower import borrower_key

CANDIDATES = 20  # read per round; a round only repeats when every candidate was taken meanwhile
MAX_ROUNDS = 5


def _held_by_other(me: str, loan_id: Any, borrower_id: Any) -> ColumnElement[bool]:
    """An open task of this loan or borrower is claimed by someone other than `me`."""
    other = aliased(HumanTask)
    same = or_(
        other.loan_id == loan_id, and_(other.borrower_id.is_not(None), other.borrower_id == borrower_id)
    )
    return exists(
        select(other.id).where(
            same, other.status == "open", other.assignee.is_not(None), other.assignee != me
        )
    )


def pick_next(
    session: Session,
    principal: Principal,
    now: datetime,
    order: tuple[Any, ...],
    group: str | None = None,
    stage: str | None = None,
) -> HumanTask | None:
    """Claim and return the first free task in inbox order, or None when nothing is available."""
    query = select(HumanTask).where(
        HumanTask.status == "open",
        HumanTask.assignee.is_(None),
        visible_tasks(principal),
        ~_held_by_other(principal.sub, HumanTask.loan_id, HumanTask.borrower_id),
    )
    if group:
        query = query.where(HumanTask.lane == group)
    if stage:
        query = query.where(HumanTask.stage == stage)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(MAX_ROUNDS):
        batch = list(session.scalars(query.order_by(*order).limit(CANDIDATES)))
        if not batch:
            return None
        for task in batch:
            borrower = task.borrower_id or borrower_key(None, task.loan_id)
            if postgres:
                lock_borrower(session, borrower)
                held = _held_by_other(principal.sub, task.loan_id, task.borrower_id)
                if session.scalar(select(held)):
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
    return None
