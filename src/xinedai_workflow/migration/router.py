"""POST /api/v1/cases/{case_id}/migrate (compliance, admin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .schemas import MigrateCase, MigrationReport
from .service import MigrationService

MigrationDep = Annotated[MigrationService, Depends(provided(MigrationService))]
Compliance = Annotated[Principal, Depends(require("compliance"))]

router = APIRouter(prefix="/api/v1/cases", tags=["migration"], responses=ERROR_RESPONSES)


@router.post("/{case_id}/migrate", response_model=MigrationReport)
def migrate_case(
    case_id: uuid.UUID, body: MigrateCase, migration: MigrationDep, principal: Compliance
) -> MigrationReport:
    """Move a running case to another version of its process (or back: the same call with the
    previous version). The report lists per element what happens (kept, reset, added, removed,
    mapped); `dry_run` only reports. A move that cannot be carried out answers 409
    `migration_refused` with the blocking elements, and changes nothing."""
    report = migration.migrate(principal, case_id, body.to_version, body.mapping, body.dry_run, body.reason)
    return MigrationReport.model_validate(report)
