"""Bodies and answers of the task endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..api.types import JsonObject, LongKey
from ..cases.schemas import AmountsOwed, DefinitionRef, NextStep, TaskView, Waiting


class TaskPage(BaseModel):
    items: list[TaskView]
    next_cursor: str | None


class Activity(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    element_id: str | None


class CaseBrief(BaseModel):
    """What a collector needs from the case to act on the task."""

    case_id: str
    loan_id: str
    status: str
    stage: str | None
    definition: DefinitionRef
    borrower: dict[str, Any] | None = Field(
        default=None, description="Masked unless the caller works the task's lane."
    )
    figures: dict[str, Any] = Field(
        default_factory=dict, description="The loan's figures as the overdue event reported them."
    )
    amounts: AmountsOwed | None = Field(default=None, description="Amounts owed today.")
    days_past_due: int | None = None
    flags: dict[str, Any] = Field(
        default_factory=dict, description="plan_kept, dispute_open, unreachable, contact_opt_outs."
    )
    waiting: list[Waiting] = Field(default_factory=list)
    next_step: NextStep | None = Field(
        default=None, description="Why the case has no open task now (e.g. waiting for calling hours)."
    )
    recent_activity: list[Activity] = Field(default_factory=list, description="The latest history entries.")


class TaskDetail(TaskView):
    form: dict[str, Any] | None = Field(description="The task's JSON Schema form (validated on complete).")
    ui_schema: dict[str, Any] | None = None
    instructions: str | None = Field(
        description="Rendered call script / guidance (with the case variables and `amounts_owed`)."
    )
    claimed_at: datetime | None = None
    case: CaseBrief


class AssignTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: LongKey = Field(description="The user id (`sub`) who gets the task.")


class CompleteTask(BaseModel):
    """`{"data": {...form fields...}}`."""

    model_config = ConfigDict(extra="forbid")

    data: JsonObject = Field(default_factory=dict, description="The form data (validated on the server).")

    @model_validator(mode="before")
    @classmethod
    def _form_fields_need_the_wrapper(cls, value: Any) -> Any:
        """Form fields sent without the `data` wrapper get a hint instead of "extra inputs"."""
        if isinstance(value, dict) and value and "data" not in value:
            fields = ", ".join(sorted(str(k) for k in value)[:5])
            raise ValueError(
                f'wrap the form fields in {{"data": {{...}}}}: send {{"data": {{{fields}: ...}}}}, '
                f"not the fields at the top level"
            )
        return value


class TaskCounts(BaseModel):
    """Badge counts over the caller's visible open tasks."""

    assigned_to_me: int
    unassigned: int
    any: int
    overdue: int = Field(description="Open tasks past their due time.")
    by_group: dict[str, int]
    by_stage: dict[str, int]


class NextTask(BaseModel):
    """Optional narrowing of `POST /tasks:next`."""

    model_config = ConfigDict(extra="forbid")

    group: str | None = Field(default=None, max_length=100, description="Only tasks of this lane.")
    stage: (
        Literal["assessment", "informal", "formal", "litigation", "mediation", "closed", "review"] | None
    ) = Field(default=None, description="Only tasks of this stage.")
