"""/api/v1/batches: one operation over many cases, run by the workers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .schemas import BatchCreated, BatchPlan, BatchView, CreateBatch
from .service import READERS, BatchService

BatchesDep = Annotated[BatchService, Depends(provided(BatchService))]
Operator = Annotated[Principal, Depends(require("compliance", "supervisor"))]
Reader = Annotated[Principal, Depends(require(*READERS))]

router = APIRouter(prefix="/api/v1/batches", tags=["batches"], responses=ERROR_RESPONSES)


@router.post("", status_code=202, response_model=BatchCreated, responses={200: {"model": BatchPlan}})
def create_batch(body: CreateBatch, batches: BatchesDep, principal: Operator) -> JSONResponse:
    """Run `operation` over the cases the filter selects (for pause/resume_contact: their loans).
    `dry_run` answers 200 with the count and a sample (for migrate, each sampled case's report);
    otherwise 202 and the workers run it in chunks. Idempotent on `request_id`. Roles: migrate,
    pause_contact, resume_contact — compliance; cancel, retry, message — supervisor; admin all."""
    answer = batches.create(principal, body)
    return JSONResponse(answer.body, status_code=answer.status)


@router.get("/{batch_id}", response_model=BatchView)
def get_batch(batch_id: uuid.UUID, batches: BatchesDep, principal: Reader) -> BatchView:
    """Progress: status, total, done, failed and the failed cases with their errors."""
    return BatchView.model_validate(batches.get(principal, batch_id))


@router.post("/{batch_id}/pause", response_model=BatchView)
def pause_batch(batch_id: uuid.UUID, batches: BatchesDep, principal: Operator) -> BatchView:
    """Stop handing out the batch's items (the ones running finish)."""
    return BatchView.model_validate(batches.pause(principal, batch_id))


@router.post("/{batch_id}/resume", response_model=BatchView)
def resume_batch(batch_id: uuid.UUID, batches: BatchesDep, principal: Operator) -> BatchView:
    """Go on with a paused batch."""
    return BatchView.model_validate(batches.resume(principal, batch_id))


@router.post("/{batch_id}/cancel", response_model=BatchView)
def cancel_batch(batch_id: uuid.UUID, batches: BatchesDep, principal: Operator) -> BatchView:
    """Skip the items not run yet; what was done stays done."""
    return BatchView.model_validate(batches.cancel(principal, batch_id))
