"""Completing tasks: server-side form validation, who may complete, and interrupted tasks."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TokenFactory
from tests.tasks.helpers import collector, deploy_lanes, open_task, start
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HistoryEntry, HumanTask, OutboxMessage, Timer
from xinedai_workflow.worker.runner import Worker


@pytest.fixture
def claimed(client: TestClient, auth: TokenFactory) -> tuple[str, str]:
    """A t_lanes case whose call task alice has claimed: (case_id, task_id)."""
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    task_id = open_task(client, auth, case_id, "call")["task_id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=collector(auth)).status_code == 200
    return case_id, task_id


def snapshot(services: Services, case_id: str) -> dict[str, Any]:
    """Everything stored about a case: its row, tasks, timers, history and outbox."""
    with services.db.read() as session:
        case = session.get(Case, uuid.UUID(case_id))
        assert case is not None
        columns = [c.key for c in Case.__table__.columns]

        def rows(model: Any, order: Any) -> list[dict[str, Any]]:
            found = session.scalars(select(model).where(model.case_id == case.id).order_by(order))
            return [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in found]

        return {
            "case": {c: getattr(case, c) for c in columns},
            "tasks": rows(HumanTask, HumanTask.id),
            "timers": rows(Timer, Timer.id),
            "history": rows(HistoryEntry, HistoryEntry.seq),
            "outbox": rows(OutboxMessage, OutboxMessage.id),
        }


def test_data_that_violates_the_form_is_422_per_field_and_changes_nothing(
    client: TestClient, auth: TokenFactory, services: Services, claimed: tuple[str, str]
) -> None:
    case_id, task_id = claimed
    before = snapshot(services, case_id)
    bad = {
        "outcome": "teleported",
        "promised_amount": "12,50",
        "promised_date": "next week",
        "notes": "x" * 51,
        "mood": "angry",
    }
    response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": bad})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert sorted(d["field"] for d in error["details"]) == sorted(bad)
    assert all(d["message"] for d in error["details"])

    missing = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": {}})
    assert missing.status_code == 422
    assert [d["field"] for d in missing.json()["error"]["details"]] == ["outcome"]

    helper = {"outcome": "no_answer", "money": "1"}  # would shadow a diagram helper
    shadow = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": helper})
    assert shadow.status_code == 422 and shadow.json()["error"]["details"][0]["field"] == "money"

    for body in ({"data": []}, {"data": {}, "extra": 1}, {"nodata": {}}):
        response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json=body)
        assert response.status_code == 422, body
    assert snapshot(services, case_id) == before


def test_only_the_assignee_completes_a_claimed_task(
    client: TestClient, auth: TokenFactory, services: Services, claimed: tuple[str, str]
) -> None:
    case_id, task_id = claimed
    before = snapshot(services, case_id)
    good = {"data": {"outcome": "promise_to_pay", "promised_amount": "500.00", "promised_date": "2026-03-09"}}
    other = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth, "bob"), json=good)
    assert other.status_code == 409 and other.json()["error"]["code"] == "claimed_by_other"
    assert snapshot(services, case_id) == before

    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json=good)
    assert done.status_code == 200, done.text
    view = done.json()
    assert view["case_id"] == case_id and [t["name"] for t in view["open_tasks"]] == []  # legal's is hidden
    assert view["variables"]["outcome"] == "promise_to_pay"
    again = client.post(f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json=good)
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_not_open"
    history = client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor")).json()["items"]
    completed = [e for e in history if e["action"] == "task_completed"]
    assert len(completed) == 1 and completed[0]["actor"] == "alice"
    assert completed[0]["data"] == {"task_id": task_id, "data": good["data"]}


def test_an_unclaimed_task_cannot_be_completed(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    task_id = open_task(client, auth, case_id, "call")["task_id"]
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": {"outcome": "no_answer"}}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_claimed"


def test_a_task_a_timer_interrupted_answers_409_and_changes_nothing(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    clock: ManualClock,
    worker: Worker,
    claimed: tuple[str, str],
) -> None:
    case_id, task_id = claimed
    clock.advance(timedelta(days=2, minutes=1))
    worker.run_once()
    escalation = open_task(client, auth, case_id, "escalate")
    assert escalation["lane"] == "supervisors"
    before = snapshot(services, case_id)
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": {"outcome": "no_answer"}}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "task_not_open"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=collector(auth, "bob")).status_code == 409
    assert snapshot(services, case_id) == before


def test_a_task_a_payment_interrupted_answers_409_and_changes_nothing(
    client: TestClient, auth: TokenFactory, services: Services, claimed: tuple[str, str]
) -> None:
    case_id, task_id = claimed
    loan_id = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()["loan_id"]
    payment = {
        "event_id": f"pay-{case_id}",
        "loan_id": loan_id,
        "amount": "2362.50",
        "paid_at": "2026-03-02T10:00:00+08:00",
        "channel": "bank_transfer",
    }
    assert client.post("/api/v1/events/payment", headers=auth("system"), json=payment).status_code == 202
    before = snapshot(services, case_id)
    assert any(t["element_id"] == "call" and t["status"] == "cancelled" for t in before["tasks"])
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=collector(auth), json={"data": {"outcome": "no_answer"}}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "task_not_open"
    assert snapshot(services, case_id) == before
