"""Complaint endpoints: the event from the bank's complaint system, the list, the resolution."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..api.deps import SystemCaller, provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .schemas import ComplaintAccepted, ComplaintEvent, ComplaintList, ComplaintView, ResolveIn
from .service import ComplaintService

router = APIRouter(prefix="/api/v1", tags=["complaints"], responses=ERROR_RESPONSES)

ComplaintReader = Annotated[Principal, Depends(require("supervisor", "compliance", "auditor"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]


ComplaintServiceDep = Annotated[ComplaintService, Depends(provided(ComplaintService))]


@router.post(
    "/events/complaint",
    status_code=201,
    response_model=ComplaintAccepted,
    responses={200: {"model": ComplaintAccepted}},
)
def complaint(
    event: ComplaintEvent, complaints: ComplaintServiceDep, principal: SystemCaller
) -> JSONResponse:
    """A complaint about the collection: contact with the borrower pauses for the case (queued
    collection messages are dropped), the case is recalled from the agency the complaint names,
    and a supervisor's review task opens with a due date. Idempotent on event_id (replay → 200)."""
    answer = complaints.receive(event, principal.actor)
    return JSONResponse(answer.body, status_code=answer.status)


@router.get("/complaints", response_model=ComplaintList)
def list_complaints(
    complaints: ComplaintServiceDep,
    principal: ComplaintReader,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
) -> ComplaintList:
    return ComplaintList.model_validate(complaints.list_complaints(principal, status, agency_id))


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintView)
def resolve_complaint(
    complaint_id: uuid.UUID, body: ResolveIn, complaints: ComplaintServiceDep, principal: Supervisor
) -> ComplaintView:
    """Resolve a complaint outside its review task (contact resumes once none is open)."""
    return ComplaintView.model_validate(
        complaints.resolve(principal, complaint_id, body.resolution, body.note)
    )
