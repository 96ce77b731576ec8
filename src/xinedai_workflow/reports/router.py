"""/api/v1/reports/kpis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .schemas import KpiReport, KpiVariantReport
from .service import ReportService

ReportsDep = Annotated[ReportService, Depends(provided(ReportService))]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)


def _moment(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, UTC)


@router.get("/kpis", response_model=KpiReport | KpiVariantReport, response_model_by_alias=True)
def kpis(
    reports: ReportsDep,
    _principal: Annotated[Principal, Depends(require("supervisor", "compliance", "auditor"))],
    from_: Annotated[
        datetime | date | None, Query(alias="from", description="Start (date or datetime).")
    ] = None,
    to: Annotated[datetime | date | None, Query(description="End, exclusive (default: now).")] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    by: Annotated[
        Literal["variant"] | None,
        Query(description="`variant`: also per champion/challenger variant, with a cure-rate z-test."),
    ] = None,
) -> JSONResponse:
    """Cure, recovery, roll, promise-kept and right-party-contact rates, cases per stage, time in stage."""
    report = reports.kpis(_moment(from_), _moment(to), process_key, by)
    model = KpiVariantReport if by == "variant" else KpiReport
    return JSONResponse(model.model_validate(report).model_dump(mode="json", by_alias=True))
