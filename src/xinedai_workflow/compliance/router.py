"""Compliance endpoints: the compliance report, the policy in force, and the workbench's
"may I contact this borrower now" check."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..api.deps import WORK_TASKS, provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from ..domain.contact_model import Channel, Target
from .schemas import ComplianceReport, ContactCheck, ContactFactIn, ContactFacts, ContactFactView, PolicyView
from .service import ComplianceService

ComplianceDep = Annotated[ComplianceService, Depends(provided(ComplianceService))]

router = APIRouter(tags=["compliance"], responses=ERROR_RESPONSES)

ComplianceReader = Annotated[Principal, Depends(require("compliance", "auditor"))]
ContactWorker = Annotated[Principal, Depends(require(*WORK_TASKS))]
FactRecorder = Annotated[Principal, Depends(require("system", *WORK_TASKS))]
FactReader = Annotated[Principal, Depends(require("system", *WORK_TASKS, "compliance", "auditor"))]
HumanChannel = Literal["call", "visit", "sms", "email", "letter"]
TargetName = Literal["borrower", "guarantor", "emergency_contact"]


@router.get("/api/v1/reports/compliance", response_model=ComplianceReport)
def compliance_report(
    compliance: ComplianceDep,
    _principal: ComplianceReader,
    from_: Annotated[
        date | None,
        Query(alias="from", description="First borrower-local day (default: 29 days before `to`)."),
    ] = None,
    to: Annotated[
        date | None, Query(description="Last borrower-local day, inclusive (default: today).")
    ] = None,
) -> JSONResponse:
    """Contacts per borrower per day (max and distribution), blocked attempts by rule, contacts in
    quiet hours and borrower-days over a cap (both must be 0), third-party contacts."""
    report = compliance.reports.report(from_, to)
    body = ComplianceReport.model_validate(report).model_dump(mode="json", by_alias=True)
    return JSONResponse(body)


@router.get("/api/v1/compliance/policy", response_model=PolicyView)
def contact_policy(compliance: ComplianceDep, _principal: ComplianceReader) -> PolicyView:
    """The contact policy in force (the newest deployed) with every number, and all versions."""
    return PolicyView.model_validate(compliance.policy())


@router.get("/api/v1/cases/{case_id}/contact-check", response_model=ContactCheck)
def contact_check(
    case_id: uuid.UUID,
    compliance: ComplianceDep,
    principal: ContactWorker,
    channel: Annotated[HumanChannel, Query(description="How the borrower would be contacted.")] = "call",
    target: Annotated[TargetName, Query(description="Who would be contacted.")] = "borrower",
) -> ContactCheck:
    """Ask before dialling: would the contact policy allow this contact now, and if not, why and
    when. Nothing is recorded; completing the contact task records (or refuses) the contact."""
    result = compliance.contact_check(principal, case_id, Channel(channel), Target(target))
    return ContactCheck.model_validate(result)


@router.post("/api/v1/cases/{case_id}/contact-facts", status_code=201, response_model=ContactFactView)
def record_contact_fact(
    case_id: uuid.UUID, body: ContactFactIn, compliance: ComplianceDep, principal: FactRecorder
) -> ContactFactView:
    """Record what the emergency-contact rules rely on (GB/T 45251-2025): the borrower is
    `unreachable` (until `reachable`), `deceased` or `incapacitated`; or an emergency contact
    refused further contact (`emergency_contact_refused` with `target_id`, honoured for ever)."""
    fact = compliance.record_fact(principal, case_id, body.kind, body.reason, body.target_id)
    return ContactFactView.model_validate(fact)


@router.get("/api/v1/cases/{case_id}/contact-facts", response_model=ContactFacts)
def contact_facts(case_id: uuid.UUID, compliance: ComplianceDep, principal: FactReader) -> ContactFacts:
    """The facts recorded about the case's borrower and what they mean for contact now."""
    return ContactFacts.model_validate(compliance.facts(principal, case_id))
