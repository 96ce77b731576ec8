"""Error messages that say what to do, and `retry` without a body."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, diagram_files, start_case
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.worker.runner import Worker


def test_form_fields_without_the_data_wrapper_get_a_hint_and_change_nothing(
    client: TestClient, auth: TokenFactory, deployed: object
) -> None:
    case_id = start_case(client, auth)
    alice = auth("collector", groups=["collectors"], sub="alice")
    task = client.get(f"/api/v1/tasks?case_id={case_id}", headers=alice).json()["items"][0]
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice).status_code == 200
    url = f"/api/v1/tasks/{task['task_id']}/complete"

    response = client.post(url, headers=alice, json={"outcome": "refused", "notes": "x"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert 'wrap the form fields in {"data": {...}}' in error["message"]
    assert 'send {"data": {notes, outcome: ...}}' in error["details"][0]["message"]
    detail = client.get(f"/api/v1/tasks/{task['task_id']}", headers=alice).json()
    assert detail["status"] == "open" and detail["assignee"] == "alice"  # nothing changed

    assert client.post(url, headers=alice, json={"data": {"outcome": "refused"}}).status_code == 200


def test_a_missing_body_says_so(client: TestClient, auth: TokenFactory) -> None:
    response = client.post("/api/v1/events/overdue", headers=auth("system"))
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "the request is not valid: a JSON request body is required"


def test_retry_needs_no_body(
    client: TestClient, auth: TokenFactory, worker: Worker, clock: ManualClock
) -> None:
    files = diagram_files("t_runaway.bpmn")
    assert client.post("/api/v1/definitions", headers=auth("compliance"), files=files).status_code == 201
    case_id = start_case(client, auth, key="t_runaway")
    clock.advance(timedelta(days=4))
    worker.fire_due_timers()
    admin = auth("admin")
    assert client.get(f"/api/v1/cases/{case_id}", headers=admin).json()["status"] == "error"
    before = len(client.get(f"/api/v1/cases/{case_id}/history", headers=admin).json()["items"])

    response = client.post(f"/api/v1/cases/{case_id}/retry", headers=admin)  # no body at all
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "error"  # the runaway script fails again, as it should
    history = client.get(f"/api/v1/cases/{case_id}/history", headers=admin).json()["items"]
    assert len(history) > before and "case_retried" in {h["action"] for h in history[before:]}
    bad = client.post(f"/api/v1/cases/{case_id}/retry", headers=admin, json={"variables": 3})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "variables"
