"""/api/v1/cases: start, list, read, history, verify, cancel, retry."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..api.deps import CaseReader, HistoryReader, provided, require
from ..api.errors import ERROR_RESPONSES
from ..api.paging import Cursor, Limit
from ..auth.principal import Principal
from ..history.reader import HistoryService
from .schemas import (
    CancelCase,
    CaseCreated,
    CasePage,
    CaseView,
    HistoryPage,
    RetryCase,
    StartCase,
    VerifyResult,
)
from .service import CaseService

CasesDep = Annotated[CaseService, Depends(provided(CaseService))]
HistoryDep = Annotated[HistoryService, Depends(provided(HistoryService))]

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=ERROR_RESPONSES)

Status = Literal["active", "completed", "cancelled", "error"]
Stage = Literal["assessment", "informal", "formal", "litigation", "mediation", "closed", "review"]


@router.post("", status_code=201, response_model=CaseCreated, responses={200: {"model": CaseCreated}})
def start_case(
    body: StartCase, cases: CasesDep, principal: Annotated[Principal, Depends(require("system"))]
) -> JSONResponse:
    """Start the latest version of a deployed process. Idempotent on request_id."""
    answer = cases.start(body, principal)
    return JSONResponse(answer.body, status_code=answer.status)


@router.get("", response_model=CasePage)
def list_cases(
    cases: CasesDep,
    principal: CaseReader,
    status: Annotated[Status | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    loan_id: Annotated[str | None, Query(max_length=100)] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CasePage:
    """Cases the caller may see, newest first: all of them for system, compliance, auditor and
    admin; for a worker, the cases with a task in one of their lanes."""
    page = cases.list(
        principal,
        status=status,
        stage=stage,
        loan_id=loan_id,
        process_key=process_key,
        limit=limit,
        cursor=cursor,
    )
    return CasePage.model_validate(page)


@router.get("/{case_id}", response_model=CaseView)
def get_case(case_id: uuid.UUID, cases: CasesDep, principal: CaseReader) -> CaseView:
    """The case with its stage, open tasks, waiting timers and messages and the amounts owed now.
    Personal data is masked for callers who do not work the case; an unmasked read is recorded."""
    return CaseView.model_validate(cases.get(principal, case_id))


@router.get("/{case_id}/history", response_model=HistoryPage)
def get_history(
    case_id: uuid.UUID,
    history: HistoryDep,
    principal: HistoryReader,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> HistoryPage:
    """The append-only, hash-chained history, oldest first. Personal data in `data` is masked for
    callers who do not work the case; an unmasked read is recorded in the access log."""
    return HistoryPage.model_validate(history.page(principal, case_id, limit, cursor))


@router.get("/{case_id}/history/verify", response_model=VerifyResult)
def verify_history(case_id: uuid.UUID, history: HistoryDep, principal: HistoryReader) -> VerifyResult:
    """Recompute the hash chain; report the first entry that does not match (`first_broken_seq`)."""
    result = history.verify(principal, case_id)
    return VerifyResult(
        valid=result.valid,
        entries=result.entries,
        first_broken_seq=result.first_broken_seq,
        reason=result.reason,
    )


@router.post("/{case_id}/cancel", response_model=CaseView)
def cancel_case(
    case_id: uuid.UUID,
    body: CancelCase,
    cases: CasesDep,
    principal: Annotated[Principal, Depends(require("supervisor"))],
) -> CaseView:
    """Cancel a case of the supervisor's lanes, with a reason (written to the history)."""
    return CaseView.model_validate(cases.cancel(principal, case_id, body.reason))


@router.post("/{case_id}/retry", response_model=CaseView)
def retry_case(
    case_id: uuid.UUID,
    cases: CasesDep,
    principal: Annotated[Principal, Depends(require("supervisor"))],
    body: RetryCase | None = None,
) -> CaseView:
    """Re-run the failed step of a case in `error` (after fixing variables or the environment).
    The body is optional: `{"variables": {...}}` to change variables first."""
    variables = body.variables if body is not None else {}
    return CaseView.model_validate(cases.retry(principal, case_id, variables))
