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


class CapCheck(BaseModel):
    """The 24% annual comprehensive-cost check (see the README's "One claim computation")."""

    rule: str = Field(description="Legal basis: 九民纪要 (法〔2019〕254号) Art. 51 and the loan contract.")
    cap_annual_rate_pct: str
    period_from: date = Field(description="Where the claimed contractual interest began accruing.")
    period_to: date
    cap_amount: str = Field(description="24% a year of the overdue principal outstanding each day.")
    charges: dict[str, str] = Field(description="interest, penalty, compound, fees counted against the cap.")
    charges_total: str
    annualised_rate_pct: str | None
    excess: str = Field(description="Charges above the cap, not claimed.")


class AmountsOwed(BaseModel):
    """What the borrower owes on `as_of` (their local date): the one claim computation
    (`domain/claim.py`) that the call script, the demand letter and the evidence package use too.
    Money as decimal strings."""

    as_of: date
    days_past_due: int
    bucket: str = Field(description="M1 | M2 | M3 | M3+ (or current)")
    principal: str
    interest: str
    penalty: str
    compound: str
    fees: str
    total: str = Field(description="Outstanding principal + interest + penalty + compound + fees.")
    paid: dict[str, str] = Field(description="What payments settled, per component.")
    paid_total: str = "0.00"
    unapplied: str = Field(default="0.00", description="Paid beyond everything owed.")
    allocation_order: list[str] = Field(
        default_factory=list, description="The order a payment settles the components in."
    )
    cap_exceeded: bool = Field(description="Charges exceed 24% a year (the excess is not claimed).")
    claimable_total: str = Field(description="The total after the cap check: what the letter demands.")
    cap: CapCheck | None = None
    basis: str = Field(default="claim", description="claim | plan (an agreed plan fixes what is owed).")
    owed: str = Field(default="0.00", description="What the borrower is asked to pay now.")


class NextStep(BaseModel):
    """Why the caller sees no open task on an active case, and when that changes."""

    reason: str = Field(description="waiting_for_timer | waiting_for_message | no_visible_task")
    message: str
    message_zh: str
    name: str | None = None
    element_id: str | None = None
    until: datetime | None = None
    until_local: str | None = Field(default=None, description="`until` in the borrower's time zone.")
    timezone: str | None = None


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
    next_step: NextStep | None = Field(
        default=None, description="Why there is no open task right now (e.g. waiting for calling hours)."
    )
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
