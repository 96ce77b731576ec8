"""The compliance services, built once at start-up: policy store, guard, retention, report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..auth.principal import Principal
from ..auth.visibility import can_see
from ..clock import Clock
from ..db.models import Case, ContactFact
from ..db.session import Database
from ..db.unit_of_work import UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..domain.contact_model import Channel, Target
from ..engine.bundle import AssetCheck
from ..errors import Invalid, NotFound
from ..history.service import NewEntry, append
from ..settings import Settings
from .deploy_checks import compliance_asset_check
from .facts import REFUSED, record_fact
from .guard import ContactGuard
from .policy import PolicyStore, fallback_policy
from .report import ComplianceReportService
from .retention import RetentionJob
from .subjects import borrower_of


def fact_view(fact: ContactFact) -> dict[str, Any]:
    return {
        "fact_id": str(fact.id),
        "case_id": str(fact.case_id),
        "kind": fact.kind,
        "target_id": fact.target_id,
        "reason": fact.reason,
        "recorded_at": fact.recorded_at,
        "recorded_by": fact.recorded_by,
    }


@dataclass
class ComplianceService:
    """Everything the compliance guardrails offer the API, the worker and the deploy step."""

    db: Database
    clock: Clock
    policies: PolicyStore
    guard: ContactGuard
    retention: RetentionJob
    reports: ComplianceReportService
    asset_check: AssetCheck
    default_group: str | None = None  # see auth.visibility.can_see

    def contact_check(
        self, principal: Principal, case_id: uuid.UUID, channel: Channel, target: Target
    ) -> dict[str, Any]:
        """May a person contact this case's borrower by `channel` now? (404 for a hidden case)"""
        with self.db.read() as session:
            case = session.get(Case, case_id)
            if case is None or not can_see(session, principal, case, self.default_group):
                raise NotFound(f"case {case_id} not found")
            return {
                "case_id": str(case.id),
                **self.guard.preview(session, case, channel, target, self.clock.now()),
            }

    def record_fact(
        self, principal: Principal, case_id: uuid.UUID, kind: str, reason: str, target_id: str | None
    ) -> dict[str, Any]:
        """Record a fact the emergency-contact rules rely on (404 for a hidden case)."""
        if kind == REFUSED and not target_id:
            raise Invalid(
                "a refusal names the emergency contact",
                details=[{"field": "target_id", "message": "required for emergency_contact_refused"}],
            )
        with self.db.write() as session:
            case = session.get(Case, case_id)
            if case is None or not can_see(session, principal, case, self.default_group):
                raise NotFound(f"case {case_id} not found")
            now = self.clock.now()
            borrower = borrower_of(case, self.policies.in_force(session).contact)
            fact = record_fact(session, case, borrower.id, kind, reason, principal.actor, now, target_id)
            data = {"fact_id": str(fact.id), "kind": kind, "target_id": target_id}
            append(session, case, [NewEntry("contact_fact_recorded", principal.actor, None, data)], now)
            case.updated_at = now
            return fact_view(fact)

    def facts(self, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
        """The facts recorded about the case's borrower (from any of their cases)."""
        with self.db.read() as session:
            case = session.get(Case, case_id)
            if case is None or not can_see(session, principal, case, self.default_group):
                raise NotFound(f"case {case_id} not found")
            borrower = self.guard.borrower(session, case, self.policies.in_force(session))
            rows = session.scalars(
                select(ContactFact)
                .where(ContactFact.borrower_id == borrower.id)
                .order_by(ContactFact.recorded_at, ContactFact.id)
            )
            state = borrower.state
            return {
                "case_id": str(case.id),
                "items": [fact_view(f) for f in rows],
                "unreachable": state.unreachable,
                "deceased": state.deceased,
                "incapacitated": state.incapacitated,
                "refused_emergency_contacts": sorted(state.refused_emergency_contacts),
                "emergency_contact_allowed": state.emergency_contact_warranted,
                "complaint_open": state.complaint_open,
            }

    def policy(self) -> dict[str, Any]:
        """The policy in force and every deployed policy version, newest first."""
        with self.db.read() as session:
            in_force = self.policies.in_force(session)
            return {"in_force": in_force.describe(), "versions": self.policies.versions(session)}


def build_compliance(
    settings: Settings, uow: UnitOfWork, clock: Clock, registry: DefinitionRegistry
) -> ComplianceService:
    """Wire the compliance services (the fallback policy is the file next to the diagrams)."""
    policies = PolicyStore(fallback_policy(settings.processes_dir))
    db = uow.db
    return ComplianceService(
        db=db,
        clock=clock,
        policies=policies,
        guard=ContactGuard(policies, registry),
        retention=RetentionJob(uow, policies, clock),
        reports=ComplianceReportService(db, policies, clock),
        asset_check=compliance_asset_check(db, policies),
        default_group=settings.default_candidate_group,
    )
