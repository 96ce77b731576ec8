"""/api/v1/simulations: ask for a what-if simulation, follow it, cancel it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ..api.deps import provided, require
from ..api.errors import ERROR_RESPONSES
from ..auth.principal import Principal
from .schemas import SimulationAccepted, SimulationRequest, SimulationView
from .service import SimulationService

SimulationsDep = Annotated[SimulationService, Depends(provided(SimulationService))]
Submitter = Annotated[Principal, Depends(require("compliance"))]
Reader = Annotated[Principal, Depends(require("compliance", "auditor"))]

router = APIRouter(prefix="/api/v1/simulations", tags=["simulations"], responses=ERROR_RESPONSES)


@router.post("", status_code=202, response_model=SimulationAccepted)
def submit(body: SimulationRequest, simulations: SimulationsDep, principal: Submitter) -> JSONResponse:
    """Queue a simulation (compliance, admin); a worker runs it on a scratch database."""
    return JSONResponse(simulations.submit(principal.actor, body), status_code=202)


@router.get("/{simulation_id}", response_model=SimulationView)
def get(simulation_id: uuid.UUID, simulations: SimulationsDep, _principal: Reader) -> JSONResponse:
    """Status, progress and, once completed, the summary (compliance, auditor, admin)."""
    found = SimulationView.model_validate(simulations.get(simulation_id))
    return JSONResponse(found.model_dump(mode="json"))


@router.post("/{simulation_id}/cancel", response_model=SimulationView)
def cancel(simulation_id: uuid.UUID, simulations: SimulationsDep, _principal: Submitter) -> JSONResponse:
    """Cancel a queued or running simulation (a running one stops at its next simulated day)."""
    found = SimulationView.model_validate(simulations.cancel(simulation_id))
    return JSONResponse(found.model_dump(mode="json"))
