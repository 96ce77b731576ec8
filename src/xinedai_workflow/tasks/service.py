"""Inbox use cases. A task outside the caller's groups is invisible (404), never forbidden."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases.runtime import CaseRuntime
from ..cases.service import CaseService
from ..cases.views import task_view
from ..clock import Clock
from ..db.models import Case, HumanTask
from ..db.retry import write_with_retry
from ..db.session import Database
from ..definitions.registry import DefinitionRegistry
from ..domain.masking import mask_personal_data
from ..errors import Conflict, Invalid, NotFound
from ..forms import render_instructions, schema_errors
from ..history.service import NewEntry, append
from ..paging import decode_cursor, encode_cursor

AMOUNT_KEYS = (
    "principal",
    "overdue_principal",
    "overdue_interest",
    "overdue_amount",
    "annual_rate",
    "balance",
)
PersonalDataHook = Callable[[Session, Principal, Case, bool], None]


def visible_task_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.is_admin or principal.has("auditor"):
        return true()
    conditions = [HumanTask.assignee == principal.sub, HumanTask.completed_by == principal.sub]
    if principal.groups:
        conditions.append(HumanTask.lane.in_(sorted(principal.groups)))
    return or_(*conditions)


class TaskService:
    """List, read, claim, unclaim, assign and complete human tasks."""

    def __init__(
        self,
        db: Database,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        cases: CaseService,
        clock: Clock,
        reserved_names: Iterable[str] = (),
        on_personal_data_read: PersonalDataHook | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.runtime = runtime
        self.cases = cases
        self.clock = clock
        self.reserved = frozenset(reserved_names)
        self.on_personal_data_read = on_personal_data_read

    # -- reading ------------------------------------------------------------------------------
    def _task(self, session: Session, principal: Principal, task_id: uuid.UUID) -> HumanTask:
        task = session.scalars(
            select(HumanTask).where(HumanTask.id == task_id, visible_task_clause(principal))
        ).first()
        if task is None:
            raise NotFound(f"task {task_id} not found")
        return task

    def _filtered(
        self,
        principal: Principal,
        assigned: str,
        group: str | None,
        case_id: uuid.UUID | None,
        stage: str | None,
    ) -> Any:
        query = select(HumanTask).where(HumanTask.status == "open", visible_task_clause(principal))
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
        return query

    def list(
        self,
        principal: Principal,
        *,
        assigned: str,
        group: str | None,
        case_id: uuid.UUID | None,
        stage: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        query = self._filtered(principal, assigned, group, case_id, stage)
        after = decode_cursor(cursor, 4)
        if after is not None:
            try:
                prio, due, created, last = (
                    int(after[0]),
                    datetime.fromisoformat(after[1]),
                    datetime.fromisoformat(after[2]),
                    uuid.UUID(str(after[3])),
                )
            except (TypeError, ValueError) as err:
                raise Invalid(
                    "cursor is not valid", details=[{"field": "cursor", "message": "malformed"}]
                ) from err
            query = query.where(
                or_(
                    HumanTask.priority < prio,
                    and_(HumanTask.priority == prio, HumanTask.due_sort > due),
                    and_(
                        HumanTask.priority == prio, HumanTask.due_sort == due, HumanTask.created_at > created
                    ),
                    and_(
                        HumanTask.priority == prio,
                        HumanTask.due_sort == due,
                        HumanTask.created_at == created,
                        HumanTask.id > last,
                    ),
                )
            )
        query = query.order_by(
            HumanTask.priority.desc(), HumanTask.due_sort, HumanTask.created_at, HumanTask.id
        ).limit(limit + 1)
        with self.db.read() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows:
            last_row = rows[-1]
            next_cursor = encode_cursor(
                [
                    last_row.priority,
                    last_row.due_sort.isoformat(),
                    last_row.created_at.isoformat(),
                    str(last_row.id),
                ]
            )
        return {"items": [task_view(r) for r in rows], "next_cursor": next_cursor}

    def counts(self, principal: Principal) -> dict[str, Any]:
        """Badge counts: mine, unassigned, any, and per group."""
        base = self._filtered(principal, "any", None, None, None).subquery()
        with self.db.read() as session:
            by_group: dict[str, int] = dict(
                session.execute(select(base.c.lane, func.count()).group_by(base.c.lane)).all()
            )
            mine = session.scalar(
                select(func.count()).select_from(base).where(base.c.assignee == principal.sub)
            )
            free = session.scalar(select(func.count()).select_from(base).where(base.c.assignee.is_(None)))
        return {
            "assigned_to_me": mine or 0,
            "unassigned": free or 0,
            "any": sum(by_group.values()),
            "by_group": by_group,
        }

    def detail(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        with self.db.write() if self.on_personal_data_read else self.db.read() as session:
            task = self._task(session, principal, task_id)
            case = session.get(Case, task.case_id)
            assert case is not None
            definition = self.registry.get(session, case.process_version_id)
            spec = definition.user_task_settings(task.element_id)
            view = task_view(task)
            variables = case.variables or {}
            unmasked = (principal.works_tasks and not principal.has("auditor")) or principal.is_admin
            borrower = variables.get("borrower")
            view.update(
                {
                    "form": definition.form(task.form_file),
                    "ui_schema": definition.form(spec.get("formUiSchemaFilename")),
                    "instructions": render_instructions(spec.get("instructions"), variables),
                    "case": {
                        "case_id": str(case.id),
                        "loan_id": case.loan_id,
                        "status": case.status,
                        "stage": case.stage,
                        "definition": {"key": case.process_key, "version": case.definition_version},
                        "borrower": borrower
                        if unmasked or not isinstance(borrower, dict)
                        else mask_personal_data({"borrower": borrower})["borrower"],
                        "amounts": {k: variables[k] for k in AMOUNT_KEYS if k in variables},
                        "days_past_due": variables.get("days_past_due"),
                    },
                }
            )
            if self.on_personal_data_read is not None:
                self.on_personal_data_read(session, principal, case, unmasked)
        return view

    # -- claiming -----------------------------------------------------------------------------
    def claim(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            if task.status != "open":
                raise Conflict("the task is no longer open", code="task_not_open")
            now = self.clock.now()
            won = session.execute(  # type: ignore[attr-defined]
                update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.status == "open", HumanTask.assignee.is_(None))
                .values(assignee=principal.sub, claimed_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won:
                session.refresh(task)
                if task.assignee == principal.sub and task.status == "open":
                    return task_view(task)
                raise Conflict(
                    "the task is already claimed",
                    code="already_claimed",
                    details={"assignee": task.assignee} if principal.has("supervisor") else None,
                )
            session.refresh(task)
            self._history(session, task, principal, "task_claimed", {"assignee": principal.sub}, now)
            return task_view(task)

        return write_with_retry(self.db, work)

    def unclaim(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            if task.status != "open":
                raise Conflict("the task is no longer open", code="task_not_open")
            if task.assignee is None:
                return task_view(task)
            if task.assignee != principal.sub and not (principal.has("supervisor") or principal.is_admin):
                raise Conflict("the task is claimed by someone else", code="claimed_by_other")
            previous = task.assignee
            task.assignee = None
            task.claimed_at = None
            self._history(
                session, task, principal, "task_unclaimed", {"previous_assignee": previous}, self.clock.now()
            )
            return task_view(task)

        return write_with_retry(self.db, work)

    def assign(self, principal: Principal, task_id: uuid.UUID, user: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            if task.status != "open":
                raise Conflict("the task is no longer open", code="task_not_open")
            previous = task.assignee
            now = self.clock.now()
            task.assignee = user
            task.claimed_at = now
            self._history(
                session,
                task,
                principal,
                "task_assigned",
                {"assignee": user, "previous_assignee": previous},
                now,
            )
            return task_view(task)

        return write_with_retry(self.db, work)

    # -- completing ---------------------------------------------------------------------------
    def _check_can_complete(self, task: HumanTask, principal: Principal) -> None:
        if task.status != "open":
            raise Conflict(f"the task is already {task.status}", code="task_not_open")
        if task.assignee is None:
            raise Conflict("claim the task before completing it", code="not_claimed")
        if task.assignee != principal.sub:
            raise Conflict("the task is claimed by someone else", code="claimed_by_other")

    def complete(self, principal: Principal, task_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            task = self._task(session, principal, task_id)
            self._check_can_complete(task, principal)
            case = session.get(Case, task.case_id)
            assert case is not None
            form = self.registry.get(session, case.process_version_id).form(task.form_file)
        problems = schema_errors(form, data) if form is not None else []
        problems += [
            {"field": k, "message": "this name is reserved for a diagram helper"}
            for k in sorted(self.reserved.intersection(data))
        ]
        if problems:
            raise Invalid("the data does not match the task's form", details=problems)

        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            self._check_can_complete(task, principal)
            case = session.get(Case, task.case_id)
            assert case is not None
            self.runtime.complete_task(session, case, task, data, principal.actor, self.clock.now())
            return self.cases.view(session, principal, case)

        return write_with_retry(self.db, work)

    def _history(
        self,
        session: Session,
        task: HumanTask,
        principal: Principal,
        action: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        case = session.get(Case, task.case_id)
        assert case is not None
        append(
            session,
            case,
            [NewEntry(action, principal.actor, task.element_id, {"task_id": str(task.id), **data})],
            now,
        )
        case.updated_at = now
        session.flush()
