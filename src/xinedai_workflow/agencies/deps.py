"""The agency service as a route dependency (built once in the container)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .service import AgencyService


async def get_agency_service(request: Request) -> AgencyService:
    service: AgencyService = request.app.state.services.agencies
    return service


AgencyServiceDep = Annotated[AgencyService, Depends(get_agency_service)]
