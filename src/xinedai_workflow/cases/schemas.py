"""Bodies and answers of the case endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..api.types import Identifier, JsonObject, LongKey


class StartCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    process_key: LongKey
    loan_id: Identifier
    variables: JsonObject = Field(default_factory=dict)
    request_id: LongKey


class CaseCreated(BaseModel):
    case_id: str
    status: str


class TaskView(BaseModel):
    task_id: str
    case_id: str
    loan_id: str
    name: str = Field(description="The BPMN element id.")
    title: str
    lane: str
    stage: str | None
    assignee: str | None
    priority: int
    due_at: datetime | None
    created_at: datetime
    status: str = "open"


class Waiting(BaseModel):
    kind: str = Field(description="timer | message")
    name: str
    due_at: datetime | None = None
    element_id: str | None = None


class DefinitionRef(BaseModel):
    key: str
    version: int


class CaseError(BaseModel):
    message: str
    element_id: str | None


class AmountsOwed(BaseModel):
    """What the borrower owes on `as_of` (their local date), computed by the domain's
    penalty-interest code from the case's figures. Money as decimal strings."""

    as_of: date
    days_past_due: int
    bucket: str = Field(description="M1 | M2 | M3 | M3+ (or current)")
    principal: str
    interest: str
    penalty: str
    compound: str
    fees: str
    paid: dict[str, str] = Field(description="What payments settled, per component.")
    total: str
    cap_exceeded: bool = Field(description="Charges exceed the 24% a year that courts uphold.")
    claimable_total: str = Field(description="The total after the cap check (what a claim may ask).")


class CaseView(BaseModel):
    case_id: str
    loan_id: str
    status: str = Field(description="active | completed | cancelled | error")
    stage: str | None
    outcome: str | None
    definition: DefinitionRef
    variables: dict[str, Any] = Field(
        description="Case variables; personal data masked for callers who do not work the case."
    )
    amounts: AmountsOwed | None = Field(
        default=None, description="Amounts owed now; null when the case carries no loan figures."
    )
    open_tasks: list[TaskView] = Field(description="Open tasks; a worker sees those of their lanes.")
    waiting: list[Waiting]
    error: CaseError | None = None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None


class CaseSummary(BaseModel):
    case_id: str
    loan_id: str
    status: str
    stage: str | None
    outcome: str | None
    definition: DefinitionRef
    created_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class HistoryItem(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    element_id: str | None
    data: Any
    definition_version: int
    prev_hash: str
    hash: str


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None


class VerifyResult(BaseModel):
    valid: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


class CancelCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class RetryCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: JsonObject = Field(default_factory=dict, description="Variables to fix before the retry.")
