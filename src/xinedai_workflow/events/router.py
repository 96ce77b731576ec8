"""/api/v1/events/* and /api/v1/messages: what other bank systems send."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ..api.deps import SystemCaller, provided
from ..api.errors import ERROR_RESPONSES
from ..errors import Invalid
from .schemas import BatchResponse, CaseRef, MessageIn, OverdueBatch, OverdueEvent, PaymentEvent
from .service import EventService

EventsDep = Annotated[EventService, Depends(provided(EventService))]

router = APIRouter(prefix="/api/v1", tags=["events"], responses=ERROR_RESPONSES)


@router.post("/events/overdue", status_code=201, response_model=CaseRef, responses={200: {"model": CaseRef}})
def overdue(event: OverdueEvent, events: EventsDep, principal: SystemCaller) -> JSONResponse:
    """Start a case for an overdue loan (201), or update its running case (200). Idempotent on event_id."""
    answer = events.overdue(event, principal.actor)
    return JSONResponse(answer.body, status_code=answer.status)


@router.post("/events/overdue:batch", response_model=BatchResponse)
def overdue_batch(batch: OverdueBatch, events: EventsDep, principal: SystemCaller) -> BatchResponse:
    """Many overdue events; each result is what the single endpoint would have answered."""
    limit = events.max_batch_events
    if len(batch.events) > limit:
        raise Invalid(
            f"a batch holds at most {limit} events",
            details=[{"field": "events", "message": f"{len(batch.events)} > {limit}"}],
        )
    return BatchResponse.model_validate({"results": events.overdue_batch(batch.events, principal.actor)})


@router.post("/events/payment", status_code=202, response_model=CaseRef)
def payment(event: PaymentEvent, events: EventsDep, principal: SystemCaller) -> JSONResponse:
    """Deliver a payment to the loan's active case as message `payment_received` (buffered if it does
    not wait for one right now)."""
    answer = events.payment(event, principal.actor)
    return JSONResponse(answer.body, status_code=answer.status)


@router.post("/messages", status_code=202, response_model=CaseRef)
def message(body: MessageIn, events: EventsDep, principal: SystemCaller) -> JSONResponse:
    """Deliver a named message to the oldest case waiting for it (409 when none waits, unless
    ttl_seconds asks to buffer it)."""
    answer = events.message(body, principal.actor)
    return JSONResponse(answer.body, status_code=answer.status)
