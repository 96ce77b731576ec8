"""/api/v1/tasks: the inbox.

Roles: collector, legal, mediator and supervisor work the tasks of their lanes (`groups`);
auditors read every task; admins do everything. A task outside the caller's lanes answers 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from ..api.deps import Supervisor, TaskReader, TaskWorker, provided
from ..api.errors import ERROR_RESPONSES
from ..api.paging import Cursor, Limit
from ..cases.schemas import CaseView, TaskView
from .schemas import AssignTask, CompleteTask, NextTask, TaskCounts, TaskDetail, TaskPage
from .service import TaskService

TasksDep = Annotated[TaskService, Depends(provided(TaskService))]

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=ERROR_RESPONSES)
# `POST /api/v1/tasks:next` is a custom method on the collection, outside the `/tasks/` prefix
next_router = APIRouter(prefix="/api/v1", tags=["tasks"], responses=ERROR_RESPONSES)

Stage = Literal["assessment", "informal", "formal", "litigation", "mediation", "closed", "review"]


@router.get("", response_model=TaskPage)
def list_tasks(
    tasks: TasksDep,
    principal: TaskReader,
    assigned: Annotated[Literal["me", "unassigned", "any"], Query()] = "any",
    group: Annotated[str | None, Query(max_length=100)] = None,
    case_id: Annotated[uuid.UUID | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TaskPage:
    """Open tasks the caller may see: highest priority first, then the oldest due date."""
    page = tasks.list(
        principal, assigned=assigned, group=group, case_id=case_id, stage=stage, limit=limit, cursor=cursor
    )
    return TaskPage.model_validate(page)


@router.get("/counts", response_model=TaskCounts)
def task_counts(tasks: TasksDep, principal: TaskReader) -> TaskCounts:
    """Counts for the inbox badges: mine, unassigned, all, overdue, per group and per stage."""
    return TaskCounts.model_validate(tasks.counts(principal))


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: uuid.UUID, tasks: TasksDep, principal: TaskReader) -> TaskDetail:
    """The task with its form (JSON Schema), rendered instructions and the case summary."""
    return TaskDetail.model_validate(tasks.detail(principal, task_id))


@router.post("/{task_id}/claim", response_model=TaskView)
def claim(task_id: uuid.UUID, tasks: TasksDep, principal: TaskWorker) -> TaskView:
    """Claim an open task; of simultaneous claims exactly one wins, the others get 409."""
    return TaskView.model_validate(tasks.claim(principal, task_id))


@router.post("/{task_id}/unclaim", response_model=TaskView)
def unclaim(task_id: uuid.UUID, tasks: TasksDep, principal: TaskWorker) -> TaskView:
    """Give the task back (its assignee, or a supervisor of its lane)."""
    return TaskView.model_validate(tasks.unclaim(principal, task_id))


@router.post("/{task_id}/assign", response_model=TaskView)
def assign(task_id: uuid.UUID, body: AssignTask, tasks: TasksDep, principal: Supervisor) -> TaskView:
    """(Re)assign a task of the supervisor's lanes to any user."""
    return TaskView.model_validate(tasks.assign(principal, task_id, body.user))


@router.post("/{task_id}/complete", response_model=CaseView)
def complete(task_id: uuid.UUID, body: CompleteTask, tasks: TasksDep, principal: TaskWorker) -> CaseView:
    """Complete a claimed task with form data; answers the case after the engine advanced.

    The data is validated against the task's JSON Schema on the server (422 lists each field);
    a task not claimed, claimed by someone else, or already ended (a timer or a payment
    interrupted it) answers 409 and nothing changes."""
    return CaseView.model_validate(tasks.complete(principal, task_id, body.data))


@next_router.post("/tasks:next", response_model=TaskView)
def claim_next(tasks: TasksDep, principal: TaskWorker, body: NextTask | None = None) -> TaskView:
    """Claim the highest-priority open task the caller may work (inbox order), atomically.

    One person per borrower at a time: tasks of a borrower someone else holds a claimed task of
    are skipped. `group` / `stage` narrow the pick. Nothing available → 409 `no_task_available`."""
    body = body or NextTask()
    return TaskView.model_validate(tasks.claim_next(principal, body.group, body.stage))
