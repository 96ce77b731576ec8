"""Bodies and answers of POST /cases/{id}/migrate."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ElementId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Mapping = Annotated[dict[ElementId, ElementId], Field(max_length=500)]


class MigrateCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: int = Field(ge=1, le=2**31 - 1, description="A version of the case's own process key.")
    mapping: Mapping = Field(
        default_factory=dict, description="Old element id → new element id, for renamed elements."
    )
    dry_run: bool = False
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ElementChangeView(BaseModel):
    element_id: str
    change: str = Field(description="kept | reset | added | removed | mapped")
    detail: str


class MigrationReport(BaseModel):
    case_id: str
    from_version: int
    to_version: int
    dry_run: bool
    applied: bool
    changes: list[ElementChangeView]
