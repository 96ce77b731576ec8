"""Simulations over the API: requests are stored and queued; a worker runs them (see `jobs`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from ..clock import Clock
from ..db.models import Simulation
from ..db.unit_of_work import UnitOfWork
from ..definitions import repository as definitions
from ..errors import Conflict, Invalid, NotFound
from .model import ModelInvalid, parse_model
from .schemas import BundleRef, SimulationRequest

FINISHED = ("completed", "failed", "cancelled")


def view(row: Simulation) -> dict[str, Any]:
    percent = 100 * row.days_done // row.days_total if row.days_total else 0
    return {
        "simulation_id": str(row.id),
        "status": row.status,
        "cancel_requested": row.cancel_requested,
        "progress": {"days_done": row.days_done, "days_total": row.days_total, "percent": percent},
        "request": row.request,
        "summary": row.summary,
        "error": row.error,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
    }


class SimulationService:
    """Submit, read and cancel simulations."""

    def __init__(self, uow: UnitOfWork, clock: Clock, default_key: str, default_model: Path) -> None:
        self.uow = uow
        self.clock = clock
        self.default_key = default_key
        self.default_model = default_model

    def _model(self, raw: dict[str, Any] | None) -> dict[str, Any]:
        if raw is None:
            try:
                raw = yaml.safe_load(self.default_model.read_text(encoding="utf-8"))
            except FileNotFoundError as err:
                raise Invalid(
                    "no model given and the shipped model file is missing",
                    details=[{"field": "model", "message": f"{self.default_model} not found"}],
                ) from err
        try:
            return parse_model(raw).raw
        except ModelInvalid as err:
            details = [
                {"field": "model" + p["path"].replace("/", "."), "message": p["message"]}
                for p in err.problems
            ]
            raise Invalid("the behaviour model is invalid", code="invalid_model", details=details) from err

    def _bundle(self, session: Session, ref: BundleRef) -> dict[str, Any]:
        if ref.source == "shipped":
            return {"source": "shipped"}
        key = ref.key or self.default_key
        row = (
            definitions.get_version(session, key, ref.version)
            if ref.version is not None
            else definitions.latest_version(session, key)
        )
        if row is None:
            raise NotFound(
                f"{key} version {ref.version or '(latest)'} is not deployed", code="unknown_version"
            )
        return {"source": "deployed", "key": key, "version": row.version}

    def submit(
        self,
        actor: str,
        request: SimulationRequest,
        candidate_files: Mapping[str, Any] | None = None,
        also: Callable[[Session, dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Store and queue a simulation (one transaction, in which `also` runs with the answer);
        202 body. `candidate_files` (`{"files": {name: sha256}, "key", "label"}`) is a candidate
        made of stored files, such as a studio draft's, instead of `request.candidate`."""
        model = self._model(request.model)

        def work(session: Session) -> dict[str, Any]:
            candidate = (
                {"source": "files", **candidate_files}
                if candidate_files is not None
                else self._bundle(session, request.candidate)
                if request.candidate
                else None
            )
            stored = {
                "baseline": self._bundle(session, request.baseline),
                "candidate": candidate,
                "cases": request.cases,
                "days": request.days,
                "seed": request.seed,
                "replications": request.replications,
                "model": model,
            }
            variants = 2 if candidate else 1
            row = Simulation(
                id=uuid.uuid4(),
                status="queued",
                request=stored,
                days_done=0,
                days_total=request.days * request.replications * variants,
                cancel_requested=False,
                created_by=actor,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            answer = {"simulation_id": str(row.id), "status": row.status}
            if also is not None:
                also(session, answer)
            return answer

        return self.uow.write(work)

    def get(self, simulation_id: uuid.UUID) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            row = session.get(Simulation, simulation_id)
            if row is None:
                raise NotFound(f"simulation {simulation_id} not found")
            return view(row)

        return self.uow.read(work)

    def cancel(self, simulation_id: uuid.UUID) -> dict[str, Any]:
        """A queued simulation is cancelled at once; a running one stops at its next simulated day."""

        def work(session: Session) -> dict[str, Any]:
            row = session.get(Simulation, simulation_id)
            if row is None:
                raise NotFound(f"simulation {simulation_id} not found")
            if row.status in FINISHED:
                raise Conflict(f"the simulation is already {row.status}", code="simulation_finished")
            row.cancel_requested = True
            if row.status == "queued":
                row.status = "cancelled"
                row.finished_at = self.clock.now()
            session.flush()
            return view(row)

        return self.uow.write(work)
