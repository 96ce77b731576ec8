"""API shapes of the compliance endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class PolicyStamp(BaseModel):
    policy_id: str
    policy_version: str
    policy_sha256: str


class ContactDecisionView(BaseModel):
    """The contact policy's verdict, as every decision records it."""

    allowed: bool
    action: str = Field(description="allow | defer | drop | refuse")
    rule: str | None = Field(description="the first rule that blocks, e.g. quiet_hours, daily_call_cap")
    blocked_by: list[str]
    reason: str
    reason_zh: str
    next_allowed_at: datetime | None = Field(description="when a blocked contact may be made (UTC)")
    policy_id: str
    policy_version: str
    policy_sha256: str


class TodayCounts(BaseModel):
    date: date
    connected_calls: int
    call_attempts: int
    contacts: int


class ContactLimits(BaseModel):
    quiet_hours: str
    max_connected_calls_per_day: int
    max_call_attempts_per_day: int | None
    max_contacts_per_day: int | None
    max_unanswered_attempts_per_number: int | None = None


class ContactCheck(ContactDecisionView):
    """May the borrower of a case be contacted by this channel now (asked before dialling)."""

    case_id: str
    channel: str
    target: str
    borrower_timezone: str
    borrower_local_time: datetime
    today: TodayCounts
    limits: ContactLimits


class Distribution(BaseModel):
    borrower_days: int
    max: int
    mean: str = Field(description="decimal string")
    distribution: dict[str, int] = Field(description="number of borrower-days per count")


class ContactTotals(BaseModel):
    total: int = Field(description="contacts that reached someone (or whose outcome is not known yet)")
    attempts: int = Field(description="every recorded contact, unanswered calls and failed sends included")
    borrowers: int
    by_channel: dict[str, int]


class OverCapDay(BaseModel):
    borrower_id: str
    date: date
    connected_calls: int
    contacts: int
    max_connected_calls: int | None
    max_contacts: int | None


class OverCap(BaseModel):
    count: int = Field(description="must be 0")
    items: list[OverCapDay]


class BlockedTotals(BaseModel):
    total: int
    by_rule: dict[str, int] = Field(description="by the first rule that blocked")
    by_rule_involved: dict[str, int] = Field(description="by every rule that blocked")
    by_action: dict[str, int]
    by_channel: dict[str, int]


class QuietHoursContact(BaseModel):
    contact_id: str
    borrower_id: str
    case_id: str
    channel: str
    at: datetime
    local_time: datetime
    policy_version: str


class QuietHours(BaseModel):
    count: int = Field(description="must be 0")
    items: list[QuietHoursContact]


class ThirdParty(BaseModel):
    total: int
    emergency_contact: int
    wrong_party: int
    guarantor: int = Field(description="the guarantor is liable; not counted in total")


class ComplaintCounts(BaseModel):
    """Complaints received in the period (the bank's local days)."""

    total: int
    open: int
    by_agency: dict[str, int] = Field(description='per agency id; "bank" for the bank\'s own collection')
    by_collector: dict[str, int]


class ComplianceReport(BaseModel):
    """Per period of borrower-local days (inclusive)."""

    model_config = {"populate_by_name": True}

    from_: date = Field(alias="from")
    to: date
    policy_in_force: PolicyStamp
    contacts: ContactTotals
    contacts_per_borrower_per_day: Distribution
    connected_calls_per_borrower_per_day: Distribution
    over_daily_cap: OverCap
    blocked_attempts: BlockedTotals
    quiet_hours_contacts: QuietHours
    third_party_contacts: ThirdParty
    complaints: ComplaintCounts


class PolicyVersion(BaseModel):
    policy_id: str | None
    policy_version: str | None
    policy_sha256: str
    first_deployed_at: datetime
    first_deployed_by: str
    last_deployed_at: datetime
    in_force: bool


class PolicyView(BaseModel):
    """The contact policy in force (newest deployed) and every deployed version."""

    in_force: dict[str, Any]
    versions: list[PolicyVersion]


class ContactFactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["unreachable", "reachable", "deceased", "incapacitated", "emergency_contact_refused"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    target_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class ContactFactView(BaseModel):
    fact_id: str
    case_id: str
    kind: str
    target_id: str | None
    reason: str
    recorded_at: datetime
    recorded_by: str


class ContactFacts(BaseModel):
    case_id: str
    items: list[ContactFactView]
    unreachable: bool
    deceased: bool
    incapacitated: bool
    refused_emergency_contacts: list[str]
    emergency_contact_allowed: bool
    complaint_open: bool
