"""API bodies of the complaint endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ..api.types import Identifier, LongKey, ShortText

Resolution = Literal["upheld", "partly_upheld", "rejected", "withdrawn"]


def _plausible(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2999:
        raise ValueError("must lie between the years 2000 and 2999")
    return value


class ComplaintEvent(BaseModel):
    """A complaint registered in the bank's complaint system about the collection of a loan."""

    model_config = ConfigDict(extra="forbid")

    event_id: LongKey
    loan_id: Identifier
    received_at: Annotated[AwareDatetime, AfterValidator(_plausible)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")] = Field(
        default="collection_conduct", examples=["collection_conduct", "harassment", "third_party_disclosure"]
    )
    summary: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    agency_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The agency complained about: the case is recalled from it."
    )
    collector: ShortText | None = Field(default=None, description="The collector complained about (user id).")


class ComplaintAccepted(BaseModel):
    complaint_id: str
    case_id: str
    status: str
    due_at: datetime
    recalled_placement_id: str | None


class ComplaintView(BaseModel):
    complaint_id: str
    event_id: str
    case_id: str
    loan_id: str
    agency_id: str | None
    collector: str | None
    category: str
    summary: str
    received_at: datetime
    due_at: datetime
    status: str
    resolution: str | None
    resolution_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    recalled_placement_id: str | None


class ComplaintList(BaseModel):
    items: list[ComplaintView]


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution
    note: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
