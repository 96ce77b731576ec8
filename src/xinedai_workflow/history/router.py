"""/api/v1/audit: who read which borrower's personal data (compliance, auditor, admin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from ..api.deps import AuditReader, provided
from ..api.errors import ERROR_RESPONSES
from ..api.paging import Cursor, Limit
from .access_log import AccessLog
from .schemas import PersonalDataReadPage

AccessLogDep = Annotated[AccessLog, Depends(provided(AccessLog))]

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/personal-data-reads", response_model=PersonalDataReadPage)
def personal_data_reads(
    access_log: AccessLogDep,
    _principal: AuditReader,
    case_id: Annotated[uuid.UUID | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="Inclusive, ISO-8601 with offset.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(alias="to", description="Exclusive, ISO-8601 with offset.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PersonalDataReadPage:
    """Unmasked reads of personal data, newest first: who, when, which case, which fields."""
    page = access_log.list(case_id=case_id, actor=actor, since=since, until=until, limit=limit, cursor=cursor)
    return PersonalDataReadPage.model_validate(page)
