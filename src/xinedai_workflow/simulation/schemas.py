"""Bodies of the simulation endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..api.types import JsonObject


class BundleRef(BaseModel):
    """A bundle to simulate: a deployed version of a process key, or the server's shipped bundle."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["deployed", "shipped"] = Field(
        default="deployed",
        description="`deployed`: a version of `key`; `shipped`: the server's processes/ folder.",
    )
    key: str | None = Field(default=None, max_length=200, description="Default: the default process key.")
    version: int | None = Field(default=None, ge=1, description="Default: the latest version of `key`.")


class SimulationRequest(BaseModel):
    """What to simulate. As on the command line, `baseline` is the version in force and
    `candidate` the edit under test; without `candidate` only the baseline runs."""

    model_config = ConfigDict(extra="forbid")

    baseline: BundleRef = Field(default_factory=BundleRef)
    candidate: BundleRef | None = None
    cases: int = Field(ge=1, le=100_000)
    days: int = Field(ge=1, le=366)
    seed: int = Field(ge=0, le=2**31)
    replications: int = Field(default=1, ge=1, le=50)
    model: JsonObject | None = Field(
        default=None, description="A behaviour model (as the YAML file, in JSON); default: the shipped model."
    )


class Progress(BaseModel):
    days_done: int
    days_total: int = Field(description="Simulated days over every variant and replication.")
    percent: int


class SimulationView(BaseModel):
    simulation_id: str
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    cancel_requested: bool
    progress: Progress
    request: dict[str, Any]
    summary: dict[str, Any] | None = Field(description="summary.json of the run once completed.")
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SimulationAccepted(BaseModel):
    simulation_id: str
    status: str
