"""Inbox use cases. A task outside the caller's groups is invisible (404), never forbidden."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import works_task
from ..cases.service import CaseService
from ..cases.views import CaseRows, amounts_owed, next_step_of, open_tasks_of, task_view, waiting_of
from ..clock import Clock
from ..db.models import Case, HumanTask
from ..db.unit_of_work import Refusal, UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..domain.masking import mask_personal_data
from ..domain.template_limits import render_limited
from ..errors import Conflict, Invalid, NotFound
from ..history.access_log import AccessLog
from ..history.service import ChainHead, NewEntry, append, chain
from ..runtime import CaseRuntime
from . import repository
from .forms import render_instructions, schema_errors
from .next import pick_next

# the loan's figures as the overdue event reported them
FIGURE_KEYS = (
    "principal",
    "overdue_principal",
    "overdue_interest",
    "overdue_amount",
    "annual_rate",
    "due_date",
)
# case flags a collector must know before contacting the borrower
FLAG_KEYS = ("plan_kept", "dispute_open", "unreachable", "contact_opt_outs")
RECENT_ACTIVITY = 10

# Called inside a completion's unit of work before the engine step (the compliance contact
# guard): records the contact the task reports, or refuses it (the refusal's record commits).
ContactGuard = Callable[[Session, Principal, Case, HumanTask, dict[str, Any], datetime], Refusal | None]


class TaskService:
    """List, read, claim, unclaim, assign and complete human tasks."""

    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        cases: CaseService,
        clock: Clock,
        access_log: AccessLog,
        reserved_names: Iterable[str] = (),
        contact_guard: ContactGuard | None = None,
    ) -> None:
        self.uow = uow
        self.registry = registry
        self.runtime = runtime
        # instructions are diagram code: rendered in a step process when there is a supervisor
        supervisor = runtime.ctx.supervisor
        self._render = supervisor.render if supervisor is not None else render_limited
        self.cases = cases
        self.clock = clock
        self.reserved = frozenset(reserved_names)
        self.access_log = access_log
        self.contact_guard = contact_guard

    # -- reading ------------------------------------------------------------------------------
    def _task(self, session: Session, principal: Principal, task_id: uuid.UUID) -> HumanTask:
        task = repository.visible_task(session, principal, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        return task

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
        """The caller's visible open tasks, highest priority first, then the earliest due date."""
        query = repository.open_tasks(principal, assigned, group, case_id, stage, cursor).limit(limit + 1)
        rows = self.uow.read(lambda session: list(session.scalars(query)))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = repository.cursor_after(rows[-1]) if more and rows else None
        return {"items": [task_view(r) for r in rows], "next_cursor": next_cursor}

    def counts(self, principal: Principal) -> dict[str, Any]:
        """Badge counts over the caller's visible open tasks, in one grouped query."""
        now = self.clock.now()
        rows = self.uow.read(lambda session: repository.badge_counts(session, principal, now))
        by_group: dict[str, int] = {}
        by_stage: dict[str, int] = {}
        mine = free = overdue = 0
        for lane, stage, count, mine_n, free_n, overdue_n in rows:
            by_group[lane] = by_group.get(lane, 0) + count
            if stage is not None:
                by_stage[stage] = by_stage.get(stage, 0) + count
            mine += int(mine_n or 0)
            free += int(free_n or 0)
            overdue += int(overdue_n or 0)
        return {
            "assigned_to_me": mine,
            "unassigned": free,
            "any": sum(by_group.values()),
            "overdue": overdue,
            "by_group": by_group,
            "by_stage": by_stage,
        }

    def detail(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        """The task, its form, the rendered instructions and the case summary needed to act
        (a write: an unmasked read of personal data is recorded)."""

        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            case = session.get(Case, task.case_id)
            assert case is not None
            unmasked = works_task(principal, task)
            view = self._detail(session, task, case, unmasked)
            if unmasked:
                self.access_log.record(session, principal, case, "task_detail", case.variables, task.id)
            return view

        return self.uow.write(work)

    def _detail(self, session: Session, task: HumanTask, case: Case, unmasked: bool) -> dict[str, Any]:
        definition = self.registry.get(session, case.process_version_id)
        settings = definition.user_task_settings(task.element_id)
        raw = case.variables or {}
        variables = raw if unmasked else mask_personal_data(raw)
        owed = amounts_owed(raw, case.ended_at or self.clock.now())
        recent = repository.recent_history(session, case.id, RECENT_ACTIVITY)
        borrower = variables.get("borrower")
        waiting = waiting_of(session, case)
        return {
            **task_view(task),
            "form": definition.form(task.form_file),
            "ui_schema": definition.form(settings.get("formUiSchemaFilename")),
            "instructions": render_instructions(
                settings.get("instructions"), {**variables, "amounts_owed": owed}, self._render
            ),
            "claimed_at": task.claimed_at,
            "case": {
                "case_id": str(case.id),
                "loan_id": case.loan_id,
                "status": case.status,
                "stage": case.stage,
                "definition": {"key": case.process_key, "version": case.definition_version},
                "borrower": borrower if isinstance(borrower, dict) else None,
                "figures": {k: raw[k] for k in FIGURE_KEYS if k in raw},
                "amounts": owed,
                "days_past_due": owed["days_past_due"] if owed else raw.get("days_past_due"),
                "flags": {k: raw[k] for k in FLAG_KEYS if k in raw},
                "waiting": waiting,
                "next_step": next_step_of(case, open_tasks_of(session, case), waiting),
                "recent_activity": [
                    {
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "element_id": e.element_id,
                    }
                    for e in recent
                ],
            },
        }

    # -- claiming -----------------------------------------------------------------------------
    def claim(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        """Exactly one of concurrent claims wins (see `repository.claim_visible`). A won claim is
        three statements: the conditional UPDATE, the case row, the history entry."""

        def work(session: Session) -> dict[str, Any]:
            now = self.clock.now()
            row = repository.claim_visible(session, principal, task_id, now)
            if row is None:
                return self._claim_refused(session, principal, task_id)
            head = ChainHead(
                row.case_id, row.case_history_seq, row.case_history_head, row.case_definition_version
            )
            data = {"task_id": str(row.id), "assignee": principal.sub}
            entries, head = chain(
                head, [NewEntry("task_claimed", principal.actor, row.element_id, data)], now
            )
            repository.record_case_step(
                session,
                row.case_id,
                row.case_lock_version,
                {"history_seq": head.seq, "history_head": head.head, "updated_at": now},
            )
            repository.insert_history(session, entries)
            return task_view(row)

        return self.uow.write(work)

    def _claim_refused(self, session: Session, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        """Why nothing was claimed: 404, 409, or the caller's own claim repeated (answered as is)."""
        task = self._task(session, principal, task_id)
        if task.status != "open":
            raise Conflict(f"the task is already {task.status}", code="task_not_open")
        if task.assignee == principal.sub:
            return task_view(task)  # a repeated claim of one's own task
        raise Conflict(
            "the task is already claimed",
            code="already_claimed",
            details={"assignee": task.assignee} if principal.supervises else None,
        )

    def claim_next(self, principal: Principal, group: str | None, stage: str | None) -> dict[str, Any]:
        """Claim the highest-priority free task the caller may work (`tasks/next.py`); 409 if none."""

        def work(session: Session) -> dict[str, Any]:
            now = self.clock.now()
            task = pick_next(session, principal, now, repository.INBOX_ORDER, group, stage)
            if task is None:
                raise Conflict("no task is available for you now", code="no_task_available")
            self._history(
                session, task, principal, "task_claimed", {"assignee": principal.sub, "next": True}, now
            )
            return task_view(task)

        return self.uow.write(work)

    def unclaim(self, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
        """Give a task back (its assignee, or a supervisor of its lane)."""

        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            if task.status != "open":
                raise Conflict(f"the task is already {task.status}", code="task_not_open")
            if task.assignee is None:
                return task_view(task)
            if task.assignee != principal.sub and not principal.supervises:
                raise Conflict("the task is claimed by someone else", code="claimed_by_other")
            previous = task.assignee
            task.assignee = None
            task.claimed_at = None
            self._history(
                session, task, principal, "task_unclaimed", {"previous_assignee": previous}, self.clock.now()
            )
            return task_view(task)

        return self.uow.write(work)

    def assign(self, principal: Principal, task_id: uuid.UUID, user: str) -> dict[str, Any]:
        """A supervisor (re)assigns a task of their lanes to any user."""

        def work(session: Session) -> dict[str, Any]:
            task = self._task(session, principal, task_id)
            if task.status != "open":
                raise Conflict(f"the task is already {task.status}", code="task_not_open")
            previous = task.assignee
            if previous == user:
                return task_view(task)
            now = self.clock.now()
            task.assignee = user
            task.claimed_at = now
            data = {"assignee": user, "previous_assignee": previous}
            self._history(session, task, principal, "task_assigned", data, now)
            return task_view(task)

        return self.uow.write(work)

    # -- completing ---------------------------------------------------------------------------
    @staticmethod
    def _check_can_complete(task: HumanTask, principal: Principal) -> None:
        if task.status != "open":
            raise Conflict(f"the task is already {task.status}", code="task_not_open")
        if task.assignee is None:
            raise Conflict("claim the task before completing it", code="not_claimed")
        if task.assignee != principal.sub:
            raise Conflict("the task is claimed by someone else", code="claimed_by_other")

    def complete(self, principal: Principal, task_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
        """Validate `data` against the task's form on the server, then advance the engine, in one
        unit of work (invalid data rolls it back: nothing changes)."""

        def work(session: Session) -> dict[str, Any] | Refusal:
            found = repository.visible_task_and_case(session, principal, task_id)
            if found is None:
                raise NotFound(f"task {task_id} not found")
            task, case = found
            self._check_can_complete(task, principal)
            form = self.registry.get(session, case.process_version_id).form(task.form_file)
            if form is not None:
                problems = schema_errors(form, data)
            else:  # no form declares any variable: task data must never overwrite case data
                no_form = "this task has no form: it accepts no data"
                problems = [{"field": k, "message": no_form} for k in sorted(data)]
            problems += [
                {"field": k, "message": "this name is reserved for a diagram helper"}
                for k in sorted(self.reserved.intersection(data))
            ]
            if problems:
                raise Invalid("the data does not match the task's form", details=problems)
            now = self.clock.now()
            if self.contact_guard is not None:
                refused = self.contact_guard(session, principal, case, task, data, now)
                if refused is not None:
                    return refused  # the refusal is kept in the history; the task stays open
            saved = self.runtime.complete_task(session, case, task, data, principal.actor, now)
            if saved is None:  # buffered messages moved the case on: read it back
                return self.cases.view(session, principal, case)
            # the answer from the rows the step holds; the caller works the task's lane (or is an
            # admin), so they work the case and see its personal data
            rows = CaseRows(
                list(saved.tasks.values()), list(saved.timers.values()), list(saved.subscriptions.values())
            )
            return self.cases.view(session, principal, case, rows, works=works_task(principal, task) or None)

        return self.uow.write(work)

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
        entry = NewEntry(action, principal.actor, task.element_id, {"task_id": str(task.id), **data})
        append(session, case, [entry], now)
        case.updated_at = now
        session.flush()
