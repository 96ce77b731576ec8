"""Bodies and answers of /api/v1/batches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..api.types import Identifier, JsonObject, LongKey

Operation = Literal["migrate", "cancel", "retry", "message", "pause_contact", "resume_contact"]
Reason = Annotated[str, StringConstraints(max_length=2000)]
ElementId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class BatchFilter(BaseModel):
    """Which cases: all conditions hold. Without `status`, ended cases are left out."""

    model_config = ConfigDict(extra="forbid")

    process_key: LongKey | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: Literal["active", "completed", "cancelled", "error"] | None = None
    stage: (
        Literal["assessment", "informal", "formal", "litigation", "mediation", "closed", "review"] | None
    ) = None
    loan_ids: list[Identifier] | None = Field(default=None, max_length=100_000)


class MigrateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: int = Field(ge=1, le=2**31 - 1)
    mapping: dict[ElementId, ElementId] = Field(default_factory=dict, max_length=500)
    reason: Reason | None = None


class MessageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    payload: JsonObject = Field(default_factory=dict)
    ttl_seconds: int | None = Field(
        default=None,
        ge=1,
        le=90 * 86400,
        description="Buffer it this long when the case is not waiting for it.",
    )


class PauseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ReasonParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None


class RetryParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: JsonObject = Field(default_factory=dict)


PARAMS: dict[str, type[BaseModel]] = {
    "migrate": MigrateParams,
    "message": MessageParams,
    "pause_contact": PauseParams,
    "resume_contact": ReasonParams,
    "cancel": ReasonParams,
    "retry": RetryParams,
}


class CreateBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation
    filter: BatchFilter = Field(default_factory=BatchFilter)
    params: JsonObject = Field(default_factory=dict)
    dry_run: bool = False
    request_id: LongKey | None = Field(default=None, description="Idempotency key of the batch.")


class BatchCreated(BaseModel):
    batch_id: str
    total: int


class BatchPlan(BaseModel):
    total: int
    sample: list[dict[str, Any]]


class BatchError(BaseModel):
    case_id: str | None
    loan_id: str | None = None
    error: str


class BatchView(BaseModel):
    batch_id: str
    operation: str
    status: str = Field(description="pending | running | paused | completed | cancelled")
    total: int
    done: int
    failed: int
    errors: list[BatchError]
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    filter: dict[str, Any]
    params: dict[str, Any]
