"""Credit-bureau endpoints: reports, corrections, the end of a default, the daily export."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, StringConstraints

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..api.types import Identifier
from ..auth.principal import Principal
from .service import BureauService

router = APIRouter(prefix="/api/v1/bureau", tags=["credit bureau"], responses=ERROR_RESPONSES)

BureauReader = Annotated[Principal, Depends(require("compliance", "auditor"))]
BureauEditor = Annotated[Principal, Depends(require("compliance"))]
DefaultEnder = Annotated[Principal, Depends(require("system", "compliance"))]


BureauDep = Annotated[BureauService, Depends(provided(BureauService))]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["overdue_amount", "days_past_due", "default_date"]
    value: str | int
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class DefaultEndedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_on: date


class ReportView(BaseModel):
    model_config = ConfigDict(extra="allow")

    record_type: str
    report_id: str
    case_id: str
    loan_id: str
    borrower_id: str
    default_date: date
    days_past_due: int
    overdue_amount: str
    notice_outbox_id: str
    notice_sent_at: str
    reported_at: str
    export_date: date
    default_ended_on: date | None
    retain_until: date | None
    status: str
    corrections: list[dict[str, Any]]


class ReportList(BaseModel):
    items: list[ReportView]


class ExportView(BaseModel):
    date: date
    location: str
    records: list[dict[str, Any]]


@router.get("/reports", response_model=ReportList)
def list_reports(
    bureau: BureauDep,
    _p: BureauReader,
    loan_id: Annotated[Identifier | None, Query()] = None,
    case_id: Annotated[uuid.UUID | None, Query()] = None,
) -> ReportList:
    """Defaults reported to the credit bureau, newest first, each with its notice and corrections."""
    return ReportList.model_validate(bureau.list_reports(loan_id, case_id))


@router.get("/reports/{report_id}", response_model=ReportView)
def get_report(report_id: uuid.UUID, bureau: BureauDep, _p: BureauReader) -> ReportView:
    return ReportView.model_validate(bureau.get(report_id))


@router.post("/reports/{report_id}/corrections", response_model=ReportView)
def correct_report(
    report_id: uuid.UUID, body: CorrectionIn, bureau: BureauDep, principal: BureauEditor
) -> ReportView:
    """Correct a reported field; the correction is kept and exported on the day it is made."""
    return ReportView.model_validate(
        bureau.correct(report_id, body.field, body.value, body.reason, principal.actor)
    )


@router.post("/reports/{report_id}/default-ended", response_model=ReportView)
def default_ended(
    report_id: uuid.UUID, body: DefaultEndedIn, bureau: BureauDep, principal: DefaultEnder
) -> ReportView:
    """The default ended (repaid): the record is kept until 5 years after (征信业管理条例 art. 16)."""
    return ReportView.model_validate(bureau.end_default(report_id, body.ended_on, principal.actor))


@router.get("/exports/{day}", response_model=ExportView)
def export_day(day: date, bureau: BureauDep, _p: BureauEditor) -> ExportView:
    """(Re)write the day's export file through the export adapter and return its records."""
    return ExportView.model_validate(bureau.export(day))
