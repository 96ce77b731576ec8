"""Move one case to another version of its process: plan (dry run) or carry out, in one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases.service import CaseService
from ..clock import Clock
from ..db.models import Case
from ..db.unit_of_work import UnitOfWork
from ..definitions import repository as definitions
from ..definitions.registry import DefinitionRegistry
from ..engine import ProcessDefinition
from ..errors import NotFound
from ..runtime import CaseRuntime


def target_version(
    session: Session, registry: DefinitionRegistry, key: str, version: int
) -> ProcessDefinition:
    """Version `version` of process `key` (404 `unknown_version` when it was never deployed)."""
    row = definitions.get_version(session, key, version)
    if row is None:
        raise NotFound(f"process {key!r} has no version {version}", code="unknown_version")
    return registry.get(session, row.id)


def migrate_case(
    session: Session,
    runtime: CaseRuntime,
    registry: DefinitionRegistry,
    case: Case,
    to_version: int,
    mapping: Mapping[str, str],
    actor: str,
    clock: Clock,
    dry_run: bool,
    reason: str | None,
) -> dict[str, Any]:
    """The report of moving `case` (carried out unless `dry_run`), in the caller's transaction."""
    from_version = case.definition_version
    target = target_version(session, registry, case.process_key, to_version)
    changes = runtime.migrate(session, case, target, mapping, actor, clock.now(), dry_run, reason)
    return {
        "case_id": str(case.id),
        "from_version": from_version,
        "to_version": target.version,
        "dry_run": dry_run,
        "applied": not dry_run,
        "changes": [vars(change) for change in changes],
    }


class MigrationService:
    """POST /cases/{id}/migrate."""

    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        cases: CaseService,
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.registry = registry
        self.runtime = runtime
        self.cases = cases
        self.clock = clock

    def migrate(
        self,
        principal: Principal,
        case_id: uuid.UUID,
        to_version: int,
        mapping: Mapping[str, str],
        dry_run: bool,
        reason: str | None,
    ) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            case = self.cases.visible_case(session, principal, case_id)
            return migrate_case(
                session,
                self.runtime,
                self.registry,
                case,
                to_version,
                mapping,
                principal.actor,
                self.clock,
                dry_run,
                reason,
            )

        if dry_run:  # nothing is written: a read transaction
            return self.uow.read(work)
        return self.uow.write(work)
