"""Overdue events start cases idempotently; payments and messages find the right case."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import TokenFactory, overdue_event, start_case
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import Case


def test_overdue_event_starts_a_case_at_its_first_wait_state(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any]
) -> None:
    event = overdue_event()
    first = client.post("/api/v1/events/overdue", headers=auth("system"), json=event)
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    assert first.json()["status"] == "active"
    replay = client.post("/api/v1/events/overdue", headers=auth("system"), json=event)
    assert replay.status_code == 200 and replay.json() == first.json()

    case = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
    assert case["status"] == "active" and case["stage"] == "informal"
    assert [t["name"] for t in case["open_tasks"]] == ["call"]
    assert {"kind": "message", "name": "payment_received"} in [
        {"kind": w["kind"], "name": w["name"]} for w in case["waiting"]
    ]
    assert case["variables"]["overdue_amount"] == "2362.50"


def test_same_event_id_with_another_body_is_a_conflict(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any]
) -> None:
    event = overdue_event()
    assert client.post("/api/v1/events/overdue", headers=auth("system"), json=event).status_code == 201
    changed = {**event, "days_past_due": 9}
    response = client.post("/api/v1/events/overdue", headers=auth("system"), json=changed)
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"


def test_a_second_event_for_the_loan_updates_the_running_case(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any], services: Services
) -> None:
    first = client.post("/api/v1/events/overdue", headers=auth("system"), json=overdue_event("L-SAME"))
    second = client.post(
        "/api/v1/events/overdue", headers=auth("system"), json=overdue_event("L-SAME", days_past_due=6)
    )
    assert second.status_code == 200 and second.json()["case_id"] == first.json()["case_id"]
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.loan_id == "L-SAME")) == 1
    history = client.get(f"/api/v1/cases/{first.json()['case_id']}/history", headers=auth("auditor")).json()[
        "items"
    ]
    assert "message_buffered" in [h["action"] for h in history]  # t_collect does not catch overdue_updated


def test_payment_reaches_the_right_case_among_a_thousand(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any]
) -> None:
    events = [overdue_event(f"L-{i:04d}") for i in range(1000)]
    for start in range(0, 1000, 250):
        response = client.post(
            "/api/v1/events/overdue:batch",
            headers=auth("system"),
            json={"events": events[start : start + 250]},
        )
        assert response.status_code == 200
        assert all(r["http_status"] == 201 for r in response.json()["results"])
    target = client.get("/api/v1/cases?loan_id=L-0617", headers=auth("admin")).json()["items"][0]["case_id"]
    payment = {
        "event_id": str(uuid.uuid4()),
        "loan_id": "L-0617",
        "amount": "2362.50",
        "paid_at": "2026-03-02T10:00:00+08:00",
        "channel": "bank_transfer",
    }
    response = client.post("/api/v1/events/payment", headers=auth("system"), json=payment)
    assert response.status_code == 202 and response.json() == {"case_id": target}
    assert client.post("/api/v1/events/payment", headers=auth("system"), json=payment).json() == {
        "case_id": target
    }
    assert client.get(f"/api/v1/cases/{target}", headers=auth("admin")).json()["status"] == "completed"
    active = client.get("/api/v1/cases?status=active&limit=200", headers=auth("admin")).json()
    assert len(active["items"]) == 200 and active["next_cursor"]
    completed = client.get("/api/v1/cases?status=completed", headers=auth("admin")).json()["items"]
    assert [c["case_id"] for c in completed] == [target]


def test_message_for_no_waiting_case_is_a_conflict(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    body = {
        "message_id": str(uuid.uuid4()),
        "name": "payment_received",
        "correlation": {"loan_id": "NOBODY"},
        "payload": {},
    }
    response = client.post("/api/v1/messages", headers=auth("system"), json=body)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_waiting_case"
    unknown_loan = {
        "event_id": str(uuid.uuid4()),
        "loan_id": "NOBODY",
        "amount": "1.00",
        "paid_at": "2026-03-02T10:00:00+08:00",
        "channel": "x",
    }
    assert client.post("/api/v1/events/payment", headers=auth("system"), json=unknown_loan).status_code == 404


def test_oldest_waiting_case_gets_a_message(client: TestClient, auth: TokenFactory, deployed: Any) -> None:
    older = start_case(client, auth, loan_id="L-TWO")
    newer = start_case(client, auth, loan_id="L-TWO")
    body = {
        "message_id": str(uuid.uuid4()),
        "name": "payment_received",
        "correlation": {"loan_id": "L-TWO"},
        "payload": {"amount": "1.00"},
    }
    assert client.post("/api/v1/messages", headers=auth("system"), json=body).json()["case_id"] == older
    body["message_id"] = str(uuid.uuid4())
    assert client.post("/api/v1/messages", headers=auth("system"), json=body).json()["case_id"] == newer


def test_buffered_message_with_ttl_waits_for_the_case(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    case_id = start_case(client, auth, loan_id="L-BUF")
    body = {
        "message_id": str(uuid.uuid4()),
        "name": "promise_to_pay",
        "correlation": {"loan_id": "L-BUF"},
        "payload": {"amount": "10.00"},
        "ttl_seconds": 3600,
    }
    response = client.post("/api/v1/messages", headers=auth("system"), json=body)
    assert response.status_code == 202 and response.json()["case_id"] == case_id
    assert (
        client.post("/api/v1/messages", headers=auth("system"), json={**body, "ttl_seconds": 60}).status_code
        == 409
    )


def test_bad_events_get_422_and_change_nothing(
    client: TestClient, auth: TokenFactory, deployed: Any, services: Services
) -> None:
    bad = [
        {**overdue_event(), "principal": 50000.0},
        {**overdue_event(), "principal": "12.345"},
        {**overdue_event(), "borrower": {"id": "B1", "name": "x", "timezone": "Mars/Olympus"}},
        {k: v for k, v in overdue_event().items() if k != "loan_id"},
        {**overdue_event(), "days_past_due": -1},
    ]
    for body in bad:
        response = client.post("/api/v1/events/overdue", headers=auth("system"), json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error" and response.json()["error"]["details"]
    nested: Any = {"loan_id": "L-N"}
    for _ in range(40):
        nested = {"x": nested}
    message = {
        "message_id": "m-deep",
        "name": "payment_received",
        "correlation": {"loan_id": "L"},
        "payload": nested,
    }
    assert client.post("/api/v1/messages", headers=auth("system"), json=message).status_code == 422
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_batch_answers_each_event_as_the_single_endpoint(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    good = overdue_event()
    body = {
        "events": [good, {**overdue_event(), "annual_rate": "lots"}, good, overdue_event(good["loan_id"])]
    }
    results = client.post("/api/v1/events/overdue:batch", headers=auth("system"), json=body).json()["results"]
    assert [r["http_status"] for r in results] == [201, 422, 200, 200]
    assert results[0]["case_id"] == results[2]["case_id"] == results[3]["case_id"]
    assert results[1]["error"]["code"] == "validation_error"


def test_limit_out_of_range_is_422_never_clamped(client: TestClient, auth: TokenFactory) -> None:
    for value in ("0", "201", "abc", "-1"):
        response = client.get(f"/api/v1/cases?limit={value}", headers=auth("admin"))
        assert response.status_code == 422, value
    assert client.get("/api/v1/cases?cursor=%%%", headers=auth("admin")).status_code == 422
