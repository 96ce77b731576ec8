"""Bodies and answers of the studio endpoints (see STUDIO_API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DraftStatus = Literal["editing", "in_review", "approved", "deployed", "discarded"]


class NewDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    base_version: int | None = Field(default=None, ge=1, le=2_147_483_647, description="Default: the latest.")
    title: str = Field(min_length=1, max_length=300)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=4000)


class LintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    content: str = Field(max_length=5 * 1024 * 1024)


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: int = Field(ge=1, le=100_000)
    days: int = Field(ge=1, le=366)
    seed: int = Field(ge=0, le=2**31)
    replications: int = Field(default=1, ge=1, le=50)


class DraftFileItem(BaseModel):
    name: str
    sha256: str
    size: int
    changed: bool = Field(description="Differs from (or is not in) the base version.")


class DraftView(BaseModel):
    draft_id: str
    key: str
    base_version: int | None
    owner: str
    title: str
    status: DraftStatus
    files: list[DraftFileItem]
    removed_files: list[str] = Field(description="Files of the base version the draft no longer has.")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    reviewer_note: str | None
    approved_by: str | None
    approved_at: datetime | None
    approved_sha256: str | None
    deployed_version: int | None


class DraftList(BaseModel):
    items: list[DraftView]


class StudioProblem(BaseModel):
    file: str | None
    line: int | None
    element_id: str | None
    message: str
    severity: Literal["error", "warning"]


class ProofAnswer(BaseModel):
    ok: bool
    problems: list[StudioProblem]
    tests: dict[str, Any] = Field(
        description='{"passed","failed","items":[...],"coverage":{key:{element:int}}}'
    )
    diff: dict[str, Any] = Field(description='{"against_version","elements","dmn_rows","files"}')


class LintAnswer(BaseModel):
    problems: list[StudioProblem]


class PreviewAnswer(BaseModel):
    text: str | None
    problems: list[StudioProblem]
    sample: str | None = Field(
        description="Where the sample case came from: process_test, test_start_variables or empty."
    )


class AuditItem(BaseModel):
    at: datetime
    actor: str
    action: str
    draft_id: str | None
    version: int | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditItem]
