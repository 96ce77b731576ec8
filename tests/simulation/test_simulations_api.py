"""POST/GET /api/v1/simulations: queued, run by a worker on a scratch database, cancellable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.simulation import jobs as jobs_module

HERE = Path(__file__).resolve().parent
TOY_MODEL = yaml.safe_load((HERE / "toy_model.yaml").read_text(encoding="utf-8"))


def _deploy_toy(client: TestClient, auth: TokenFactory) -> None:
    files = [
        ("files", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted((HERE / "toy").iterdir())
    ]
    assert client.post("/api/v1/definitions", headers=auth("compliance"), files=files).status_code == 201


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "baseline": {"source": "deployed", "key": "toy_cure"},
        "cases": 40,
        "days": 3,
        "seed": 4,
        "model": TOY_MODEL,
    }
    body.update(overrides)
    return body


def test_submit_run_and_read_a_simulation(client: TestClient, auth: TokenFactory, services: Services) -> None:
    _deploy_toy(client, auth)
    compliance = auth("compliance", sub="carol")
    assert client.post("/api/v1/simulations", headers=auth("collector"), json=_body()).status_code == 403
    assert client.post("/api/v1/simulations", headers=auth("auditor"), json=_body()).status_code == 403
    bad = client.post(
        "/api/v1/simulations", headers=compliance, json=_body(model={**TOY_MODEL, "borrower": {}})
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_model"
    missing = client.post(
        "/api/v1/simulations", headers=compliance, json=_body(baseline={"key": "toy_cure", "version": 9})
    )
    assert missing.status_code == 404
    assert client.post("/api/v1/simulations", headers=compliance, json=_body(days=0)).status_code == 422

    accepted = client.post("/api/v1/simulations", headers=compliance, json=_body())
    assert accepted.status_code == 202, accepted.text
    simulation_id = accepted.json()["simulation_id"]
    queued = client.get(f"/api/v1/simulations/{simulation_id}", headers=auth("auditor")).json()
    assert queued["status"] == "queued" and queued["progress"] == {
        "days_done": 0,
        "days_total": 3,
        "percent": 0,
    }
    assert queued["request"]["baseline"] == {"source": "deployed", "key": "toy_cure", "version": 1}

    assert services.simulation_jobs.run_next() is True
    done = client.get(f"/api/v1/simulations/{simulation_id}", headers=compliance).json()
    assert done["status"] == "completed" and done["progress"]["percent"] == 100
    figures = done["summary"]["variants"]["baseline"]
    assert sum(figures["outcomes"].values()) == 40 and figures["policy_violations"] == 0
    assert done["created_by"] == "carol" and done["finished_at"] is not None
    assert services.simulation_jobs.run_next() is False  # one at a time, nothing left
    # the live database saw no simulated case
    assert client.get("/api/v1/cases", headers=auth("admin")).json()["items"] == []
    assert (
        client.get("/api/v1/simulations/00000000-0000-0000-0000-000000000000", headers=compliance).status_code
        == 404
    )


def test_cancel_queued_and_running(
    client: TestClient, auth: TokenFactory, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deploy_toy(client, auth)
    compliance = auth("compliance")
    first = client.post("/api/v1/simulations", headers=compliance, json=_body()).json()["simulation_id"]
    cancelled = client.post(f"/api/v1/simulations/{first}/cancel", headers=compliance)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/simulations/{first}/cancel", headers=compliance).status_code == 409
    assert services.simulation_jobs.run_next() is False

    second = client.post("/api/v1/simulations", headers=compliance, json=_body(days=5)).json()[
        "simulation_id"
    ]
    real = jobs_module.simulate

    def cancel_after_first_day(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def wrapped(done: int, total: int, label: str) -> None:
            if done == 1:
                assert (
                    client.post(f"/api/v1/simulations/{second}/cancel", headers=compliance).status_code == 200
                )
            progress(done, total, label)

        return real(*args, **{**kwargs, "progress": wrapped})

    monkeypatch.setattr(jobs_module, "simulate", cancel_after_first_day)
    assert services.simulation_jobs.run_next() is True
    stopped = client.get(f"/api/v1/simulations/{second}", headers=compliance).json()
    assert stopped["status"] == "cancelled" and stopped["summary"] is None
    assert 1 <= stopped["progress"]["days_done"] < 5
