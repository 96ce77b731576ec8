"""What the workbench pages use of the service (built by `bootstrap`, handed over by `provided`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from ..api.deps import provided
from ..cases.service import CaseService
from ..clock import Clock
from ..compliance.service import ComplianceService
from ..db.session import Database
from ..definitions.registry import DefinitionRegistry
from ..history.reader import HistoryService
from ..reports.service import ReportService
from ..settings import Settings
from ..tasks.service import TaskService


@dataclass(frozen=True)
class WebParts:
    """The services the pages call: the same ones the API routers call."""

    settings: Settings
    db: Database
    clock: Clock
    registry: DefinitionRegistry
    cases: CaseService
    tasks: TaskService
    history: HistoryService
    compliance: ComplianceService
    reports: ReportService


WebPartsDep = Annotated[WebParts, Depends(provided(WebParts))]
