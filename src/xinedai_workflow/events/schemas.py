"""Bodies of the event endpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StrictInt, StringConstraints

from ..api.types import Identifier, JsonObject, LongKey, Money, Rate, ShortText, TimeZoneName


class Borrower(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9\- ]{5,20}$")] | None = None
    email: EmailStr | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    timezone: TimeZoneName = "Asia/Shanghai"


class OverdueEvent(BaseModel):
    """A loan became overdue, or its DPD / amounts changed."""

    model_config = ConfigDict(extra="forbid")

    event_id: LongKey
    loan_id: Identifier
    product: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "xinedai"
    borrower: Borrower
    principal: Money
    overdue_principal: Money
    overdue_interest: Money
    annual_rate: Rate
    days_past_due: StrictInt = Field(ge=0, le=36500)  # 5.0 and true are not integers
    due_date: date
    occurred_at: AwareDatetime


class OverdueBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[dict[str, Any]] = Field(min_length=1, description="Up to the configured maximum (10,000).")


class BatchResult(BaseModel):
    event_id: str | None
    http_status: int
    case_id: str | None
    error: dict[str, Any] | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult]


class PaymentEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: LongKey
    loan_id: Identifier
    amount: Money
    paid_at: AwareDatetime
    channel: ShortText = "unknown"


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: LongKey
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]
    correlation: JsonObject = Field(description="Must contain loan_id.")
    payload: JsonObject = Field(default_factory=dict)
    ttl_seconds: StrictInt | None = Field(default=None, ge=1, le=90 * 24 * 3600)


class CaseRef(BaseModel):
    case_id: str
    status: str | None = None
    incident: bool | None = Field(
        default=None, description="True when the loan's case is in error: the event is held on it"
    )
