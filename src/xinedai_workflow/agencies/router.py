"""Agency endpoints: the registry, placements and recalls, statements and scorecards, the public
list of partner agencies, and what an agency collector may see and do."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..api.deps import require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import AGENCY_ROLE, Principal
from ..compliance.schemas import ContactCheck
from ..domain.contact_model import Channel, Target
from .deps import AgencyServiceDep
from .schemas import (
    AgencyCaseList,
    AgencyCaseView,
    AgencyContactIn,
    AgencyContactOut,
    AgencyIn,
    AgencyList,
    AgencyView,
    PlacementIn,
    PlacementList,
    PlacementView,
    PublicAgencies,
    RecallIn,
    Scorecard,
    Statement,
)

router = APIRouter(prefix="/api/v1", tags=["agencies"], responses=ERROR_RESPONSES)

AgencyManager = Annotated[Principal, Depends(require("compliance"))]
AgencyReader = Annotated[Principal, Depends(require("compliance", "auditor", "supervisor"))]
Placer = Annotated[Principal, Depends(require("supervisor"))]
AgencyCollector = Annotated[Principal, Depends(require(AGENCY_ROLE))]


@router.get("/agencies/public", response_model=PublicAgencies)
def public_agencies(agencies: AgencyServiceDep) -> PublicAgencies:
    """The bank's partner collection agencies under contract today: name, scope, contract period
    (no authentication; the CBA guideline 2026-01-30 asks banks to publish the list)."""
    return PublicAgencies.model_validate(agencies.public())


@router.post("/agencies", status_code=201, response_model=AgencyView, responses={200: {"model": AgencyView}})
def create_agency(body: AgencyIn, agencies: AgencyServiceDep, principal: AgencyManager) -> JSONResponse:
    """Register a partner agency with its contract (201; the same registration again: 200)."""
    status, view = agencies.create(principal, body)
    return JSONResponse(AgencyView.model_validate(view).model_dump(mode="json"), status_code=status)


@router.get("/agencies", response_model=AgencyList)
def list_agencies(agencies: AgencyServiceDep, _p: AgencyReader) -> AgencyList:
    """Every agency with its contract, active placements and whether an evaluation is due."""
    return AgencyList.model_validate(agencies.list_agencies())


@router.get("/agencies/{agency_id}", response_model=AgencyView)
def get_agency(agency_id: str, agencies: AgencyServiceDep, _p: AgencyReader) -> AgencyView:
    return AgencyView.model_validate(agencies.get(agency_id))


@router.post("/agencies/{agency_id}/placements", status_code=201, response_model=PlacementList)
def place_cases(
    agency_id: str, body: PlacementIn, agencies: AgencyServiceDep, principal: Placer
) -> PlacementList:
    """Place one case or a batch with the agency, all or none (404 for a case not visible to the
    caller, 409 for one already placed or ended)."""
    return PlacementList.model_validate(agencies.place(principal, agency_id, body.case_ids))


@router.get("/agencies/{agency_id}/placements", response_model=PlacementList)
def list_placements(
    agency_id: str,
    agencies: AgencyServiceDep,
    _p: AgencyReader,
    active: Annotated[bool, Query(description="Only placements in force.")] = True,
) -> PlacementList:
    return PlacementList.model_validate(agencies.placements(agency_id, active))


@router.post("/placements/{placement_id}/recall", response_model=PlacementView)
def recall_placement(
    placement_id: uuid.UUID, body: RecallIn, agencies: AgencyServiceDep, principal: Placer
) -> PlacementView:
    """Recall a case from its agency (reason complaint, contract_end or request)."""
    return PlacementView.model_validate(agencies.recall(principal, placement_id, body.reason, body.note))


@router.get("/agencies/{agency_id}/statements/{day}", response_model=Statement)
def statement(agency_id: str, day: date, agencies: AgencyServiceDep, _p: AgencyReader) -> Statement:
    """Commission on the payments made during placements on one business day (policy time zone)."""
    return Statement.model_validate(agencies.statement(agency_id, day))


@router.get("/agencies/{agency_id}/scorecard", response_model=Scorecard)
def scorecard(
    agency_id: str,
    agencies: AgencyServiceDep,
    _p: AgencyReader,
    from_: Annotated[
        date | None, Query(alias="from", description="First day (default: a year before `to`).")
    ] = None,
    to: Annotated[date | None, Query(description="Last day, inclusive (default: today).")] = None,
) -> JSONResponse:
    """Recovery rate, contacts per borrower-day, violations attempted, complaints (yearly evaluation)."""
    body = Scorecard.model_validate(agencies.scorecard(agency_id, from_, to)).model_dump(
        mode="json", by_alias=True
    )
    return JSONResponse(body)


# -- the agency collector's own view ------------------------------------------------------------


@router.get("/agency/cases", response_model=AgencyCaseList)
def agency_cases(agencies: AgencyServiceDep, principal: AgencyCollector) -> AgencyCaseList:
    """The cases placed with the caller's agency (every read logged)."""
    return AgencyCaseList.model_validate(agencies.agency_cases(principal))


@router.get("/agency/cases/{case_id}", response_model=AgencyCaseView)
def agency_case(case_id: uuid.UUID, agencies: AgencyServiceDep, principal: AgencyCollector) -> AgencyCaseView:
    """One placed case with the minimum personal data; another agency's or an unplaced case: 404."""
    return AgencyCaseView.model_validate(agencies.agency_case(principal, case_id))


@router.post("/agency/cases/{case_id}/contacts", status_code=201, response_model=AgencyContactOut)
def agency_contact(
    case_id: uuid.UUID, body: AgencyContactIn, agencies: AgencyServiceDep, principal: AgencyCollector
) -> AgencyContactOut:
    """Record a contact through the bank's contact guard: the same rules and the same daily caps
    as the bank's own contacts; refused → 409 `contact_not_allowed` (the refusal is recorded)."""
    return AgencyContactOut.model_validate(agencies.record_contact(principal, case_id, body))


@router.get("/agency/cases/{case_id}/contact-check", response_model=ContactCheck)
def agency_contact_check(
    case_id: uuid.UUID,
    agencies: AgencyServiceDep,
    principal: AgencyCollector,
    channel: Annotated[Literal["call", "visit", "sms", "email", "letter"], Query()] = "call",
    target: Annotated[Literal["borrower", "guarantor", "emergency_contact"], Query()] = "borrower",
) -> ContactCheck:
    """Ask before dialling: the bank's policy and the agency's contract (nothing recorded)."""
    return ContactCheck.model_validate(
        agencies.contact_check(principal, case_id, Channel(channel), Target(target))
    )
