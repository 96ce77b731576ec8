"""Answers of the audit endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PersonalDataReadItem(BaseModel):
    """One unmasked read of a borrower's personal data."""

    id: int
    at: datetime
    actor: str = Field(description="The reader's user id (`sub`).")
    roles: list[str]
    case_id: str
    loan_id: str
    task_id: str | None
    access: str = Field(description="case_view | task_detail | history")
    fields: list[str] = Field(description="The personal fields the read revealed, e.g. borrower.phone.")


class PersonalDataReadPage(BaseModel):
    items: list[PersonalDataReadItem]
    next_cursor: str | None
