"""API bodies of the agency endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..api.types import Identifier, JsonObject, Rate, ShortText

AgencyId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
HumanChannelName = Literal["call", "visit", "sms", "email", "letter"]
BorrowerField = Literal["name", "phone", "email", "address", "id"]
RecallReason = Literal["complaint", "contract_end", "request"]


def _plausible(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2999, 12, 31):
        raise ValueError("must lie between 2000-01-01 and 2999-12-31")
    return value


ContractDate = Annotated[date, AfterValidator(_plausible)]


class AgencyIn(BaseModel):
    """A partner agency and its contract (PIPL art. 21 contract, art. 55 impact assessment)."""

    model_config = ConfigDict(extra="forbid")

    id: AgencyId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    scope: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="What the agency is engaged for (published on the public list)."
    )
    contract_ref: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    contract_start: ContractDate
    contract_end: ContractDate
    commission_rate: Rate = Field(description='Share of each payment, e.g. "0.1200" = 12%.')
    allowed_channels: list[HumanChannelName] = Field(min_length=1, max_length=5)
    personal_data_fields: list[BorrowerField] = Field(
        default_factory=list,
        max_length=5,
        description="Borrower fields the placement contract names: shown unmasked to the agency.",
    )
    contact_policy_id: Identifier = Field(
        description="The contact policy the agency follows: must be the bank's own policy in force."
    )
    impact_assessment_ref: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    last_evaluated_on: ContractDate | None = None


class AgencyView(BaseModel):
    id: str
    name: str
    scope: str
    contract_ref: str
    contract_start: date
    contract_end: date
    commission_rate: str
    allowed_channels: list[str]
    personal_data_fields: list[str]
    contact_policy_id: str
    impact_assessment_ref: str
    last_evaluated_on: date | None
    evaluation_due: bool = Field(
        description="A yearly evaluation, or the one before the contract ends, is due."
    )
    status: str
    active_placements: int
    created_at: datetime
    created_by: str


class AgencyList(BaseModel):
    items: list[AgencyView]


class PublicAgency(BaseModel):
    name: str
    scope: str
    contract_start: date
    contract_end: date


class PublicAgencies(BaseModel):
    """The bank's partner collection agencies (CBA guideline 2026-01-30: published)."""

    items: list[PublicAgency]
    as_of: date


class PlacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class PlacementView(BaseModel):
    placement_id: str
    agency_id: str
    case_id: str
    loan_id: str
    balance_at_placement: str
    commission_rate: str
    placed_at: datetime
    placed_by: str
    recalled_at: datetime | None
    recalled_by: str | None
    recall_reason: str | None
    recall_note: str | None
    active: bool


class PlacementList(BaseModel):
    items: list[PlacementView]


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RecallReason
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class AgencyCaseView(BaseModel):
    """What an agency collector sees of a placed case: the minimum the contract names."""

    case_id: str
    loan_id: str
    status: str
    stage: str | None
    placed_at: datetime
    borrower: dict[str, Any]
    masked_fields: list[str]
    figures: dict[str, Any]
    amounts: dict[str, Any] | None


class AgencyCaseList(BaseModel):
    items: list[AgencyCaseView]


class AgencyContactIn(BaseModel):
    """A contact an agency collector made (or wants to record)."""

    model_config = ConfigDict(extra="forbid")

    channel: HumanChannelName
    outcome: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]
    contact_target: Literal["borrower", "guarantor", "emergency_contact"] = "borrower"
    contact_target_id: ShortText | None = None
    contact_number: Annotated[str, StringConstraints(max_length=40)] | None = None
    recording_ref: Annotated[str, StringConstraints(max_length=500)] | None = None
    notes: JsonObject | None = None


class AgencyContactOut(BaseModel):
    case_id: str
    agency_id: str
    contact_id: str
    channel: str
    outcome: str
    connected: bool
    at: AwareDatetime


class StatementLine(BaseModel):
    payment_event_id: str
    case_id: str
    loan_id: str
    paid_at: datetime
    amount: str
    rate: str
    commission: str


class Statement(BaseModel):
    """Commission on payments during placement, one business day (reconciled to the fen)."""

    agency_id: str
    date: date
    timezone: str
    lines: list[StatementLine]
    payments: int
    payments_total: str
    commission_total: str
    commission_at_rate_on_total: str
    rounding_difference: str
    reconciled: bool


class Scorecard(BaseModel):
    """For the yearly evaluation (GB/T 45251-2025: at least yearly and before the contract ends)."""

    agency_id: str
    from_: date = Field(alias="from")
    to: date
    placements: int
    placed_balance: str
    recovered: str
    recovery_rate: str | None
    contacts: int
    connected_contacts: int
    borrower_days: int
    contacts_per_borrower_day: str | None
    violations_attempted: int
    violations_by_rule: dict[str, int]
    complaints: int
    commission: str
    contract_end: date
    evaluation_due: bool

    model_config = ConfigDict(populate_by_name=True)
