"""Cases of one version share one cached parsed spec; running one case must not change how another
runs. SpiffWorkflow 3.2 wired a message-started event subprocess into the *spec* the first time a
case triggered it (`BpmnStartTask.trigger_wf`: Start → handler → EndJoin), so every case started
later on that spec ran the handler as an ordinary branch from its start and never completed
(`engine/spiff_fixes.py` wires the handler to the end at parse time and triggers without connecting)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, complete_named_task, diagram_files
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.settings import Settings

DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


@pytest.fixture(params=["in_process", "step_process"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Both places a spec is cached: the registry (in process) and a step process (one, so every
    step of both cases meets the same cached spec)."""
    return settings.model_copy(
        update={"step_isolation": request.param == "step_process", "step_processes": 1}
    )


def _start(client: TestClient, auth: TokenFactory) -> str:
    body = {
        "process_key": "t_episode",
        "loan_id": f"L-{uuid.uuid4().hex[:8]}",
        "request_id": str(uuid.uuid4()),
    }
    response = client.post("/api/v1/cases", headers=auth("system"), json=body)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def _view(client: TestClient, auth: TokenFactory, case_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
    return {
        "status": body["status"],
        "stage": body["stage"],
        "open_tasks": sorted(t["name"] for t in body["open_tasks"]),
        "waiting": sorted((w["kind"], w["name"]) for w in body["waiting"]),
    }


def _pay(client: TestClient, auth: TokenFactory, case_id: str) -> None:
    loan_id = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()["loan_id"]
    body = {
        "message_id": str(uuid.uuid4()),
        "name": "payment_received",
        "correlation": {"loan_id": loan_id},
        "payload": {"amount": "10.00"},
    }
    response = client.post("/api/v1/messages", headers=auth("system"), json=body)
    assert response.status_code == 202 and response.json()["case_id"] == case_id, response.text


def _run_to_end(client: TestClient, auth: TokenFactory, case_id: str) -> list[dict[str, Any]]:
    """The case's view after start, after its call and after its review."""
    views = [_view(client, auth, case_id)]
    for name in ("call", "review"):
        complete_named_task(client, auth, case_id, name)
        views.append(_view(client, auth, case_id))
    return views


def test_a_case_runs_the_same_after_another_case_of_its_version_caught_a_payment(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    files = diagram_files("t_episode.bpmn", directory=DIAGRAMS)
    assert client.post("/api/v1/definitions", headers=auth("compliance"), files=files).status_code == 201
    alone = _run_to_end(client, auth, _start(client, auth))
    assert alone[-1]["status"] == "completed" and alone[0]["open_tasks"] == ["call"]

    first = _start(client, auth)
    _pay(client, auth, first)  # the first case triggers its payment handler on the shared spec
    second = _start(client, auth)  # started after it, on the same cached spec
    assert _run_to_end(client, auth, second) == alone
    _pay(client, auth, first)  # and the first goes on as a case alone would
    assert _run_to_end(client, auth, first) == alone
