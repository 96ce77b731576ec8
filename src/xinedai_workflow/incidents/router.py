"""/api/v1/incidents: cases in error per process version and element (supervisor, compliance,
auditor, admin; a supervisor sees the incidents of the cases visible to them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .service import IncidentService

IncidentsDep = Annotated[IncidentService, Depends(provided(IncidentService))]

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=ERROR_RESPONSES)


class Incident(BaseModel):
    process_key: str
    version: int
    element_id: str | None
    message: str | None
    cases: int
    case_ids: list[str]
    held_events: int
    first_at: datetime
    last_at: datetime


class IncidentList(BaseModel):
    items: list[Incident]


@router.get("", response_model=IncidentList)
def incidents(
    incidents: IncidentsDep,
    principal: Annotated[Principal, Depends(require("supervisor", "compliance", "auditor"))],
    process_key: Annotated[str | None, Query(max_length=200)] = None,
) -> IncidentList:
    """Cases in `error`, grouped by process version, element and message, most cases first."""
    items = incidents.list(principal, process_key)
    return IncidentList.model_validate({"items": items})
