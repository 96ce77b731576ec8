"""Bodies and answers of the task endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..api_types import JsonObject, LongKey
from ..cases.schemas import TaskView


class TaskPage(BaseModel):
    items: list[TaskView]
    next_cursor: str | None


class CaseBrief(BaseModel):
    case_id: str
    loan_id: str
    status: str
    stage: str | None
    definition: dict[str, Any]
    borrower: dict[str, Any] | None = None
    amounts: dict[str, Any] = Field(default_factory=dict)
    days_past_due: int | None = None


class TaskDetail(TaskView):
    form: dict[str, Any] | None = Field(description="The task's JSON Schema form (validated on complete).")
    ui_schema: dict[str, Any] | None = None
    instructions: str | None = Field(description="Rendered call script / guidance.")
    case: CaseBrief


class AssignTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: LongKey


class CompleteTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: JsonObject = Field(default_factory=dict)


class TaskCounts(BaseModel):
    assigned_to_me: int
    unassigned: int
    any: int
    by_group: dict[str, int]
