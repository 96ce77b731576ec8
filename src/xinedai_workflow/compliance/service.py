"""The compliance services, built once at start-up: policy store, guard, retention, report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..auth.principal import Principal
from ..auth.visibility import can_see
from ..clock import Clock
from ..db.models import Case
from ..db.session import Database
from ..db.unit_of_work import UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..domain.contact_model import Channel, Target
from ..engine.bundle import AssetCheck
from ..errors import NotFound
from ..settings import Settings
from .deploy_checks import compliance_asset_check
from .guard import ContactGuard
from .policy import PolicyStore, fallback_policy
from .report import ComplianceReportService
from .retention import RetentionJob


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

    def contact_check(
        self, principal: Principal, case_id: uuid.UUID, channel: Channel, target: Target
    ) -> dict[str, Any]:
        """May a person contact this case's borrower by `channel` now? (404 for a hidden case)"""
        with self.db.read() as session:
            case = session.get(Case, case_id)
            if case is None or not can_see(session, principal, case):
                raise NotFound(f"case {case_id} not found")
            return {
                "case_id": str(case.id),
                **self.guard.preview(session, case, channel, target, self.clock.now()),
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
    )
