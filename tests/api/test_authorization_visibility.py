"""Groups and visibility: what each reader sees, what an auditor may not do, masked personal data
and the log of unmasked reads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, diagram_files, overdue_event
from tests.tasks.helpers import BORROWER, LANES_DIAGRAMS, collector, deploy_lanes, open_task, start
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import Case, HistoryEntry, HumanTask, PersonalDataRead


@pytest.fixture
def cases(client: TestClient, auth: TokenFactory) -> dict[str, str]:
    """A mixed case (collectors call + legal review) and a legal-only case."""
    deploy_lanes(client, auth)
    return {"mixed": start(client, auth), "legal_only": start(client, auth, key="t_legal_only")}


def _stored(services: Services) -> dict[str, Any]:
    with services.db.read() as session:
        return {
            "cases": sorted((str(c.id), c.lock_version, c.status) for c in session.query(Case)),
            "tasks": sorted((str(t.id), t.status, t.assignee) for t in session.query(HumanTask)),
            "history": session.query(HistoryEntry).count(),
        }


def test_a_collector_never_sees_a_legal_task(
    client: TestClient, auth: TokenFactory, cases: dict[str, str]
) -> None:
    alice = collector(auth)
    legal_review = open_task(client, auth, cases["mixed"], "legal_review")["task_id"]
    file_claim = open_task(client, auth, cases["legal_only"], "file_claim")["task_id"]

    listed = client.get("/api/v1/tasks", headers=alice, params={"limit": 200}).json()["items"]
    assert {t["lane"] for t in listed} == {"collectors"}
    for task_id in (legal_review, file_claim):
        for method, suffix, body in (
            ("GET", "", None),
            ("POST", "/claim", None),
            ("POST", "/unclaim", None),
            ("POST", "/complete", {"data": {}}),
        ):
            response = client.request(method, f"/api/v1/tasks/{task_id}{suffix}", headers=alice, json=body)
            assert response.status_code == 404, (suffix, response.text)
            assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=alice).status_code == 404  # same answer

    mixed = client.get(f"/api/v1/cases/{cases['mixed']}", headers=alice)
    assert mixed.status_code == 200
    assert [t["name"] for t in mixed.json()["open_tasks"]] == ["call"]
    for path in ("", "/history", "/history/verify"):
        hidden = client.get(f"/api/v1/cases/{cases['legal_only']}{path}", headers=alice)
        assert hidden.status_code == 404, path
    listed_cases = client.get("/api/v1/cases", headers=alice).json()["items"]
    assert [c["case_id"] for c in listed_cases] == [cases["mixed"]]
    counts = client.get("/api/v1/tasks/counts", headers=alice).json()
    assert counts["by_group"] == {"collectors": 1}

    lena = auth("legal", groups=["legal"], sub="lena")
    assert {t["name"] for t in client.get("/api/v1/tasks", headers=lena).json()["items"]} == {
        "legal_review",
        "file_claim",
    }
    assert [
        t["name"] for t in client.get(f"/api/v1/cases/{cases['mixed']}", headers=lena).json()["open_tasks"]
    ] == ["legal_review"]


def test_a_collector_in_no_group_sees_nothing(
    client: TestClient, auth: TokenFactory, cases: dict[str, str]
) -> None:
    lonely = auth("collector", groups=[], sub="lonely")
    assert client.get("/api/v1/tasks", headers=lonely).json()["items"] == []
    assert client.get("/api/v1/cases", headers=lonely).json()["items"] == []
    assert client.get(f"/api/v1/cases/{cases['mixed']}", headers=lonely).status_code == 404


def test_an_auditor_reads_everything_and_changes_nothing(
    client: TestClient, auth: TokenFactory, services: Services, cases: dict[str, str]
) -> None:
    auditor = auth("auditor", sub="audrey")
    call = open_task(client, auth, cases["mixed"], "call")
    assert client.post(f"/api/v1/tasks/{call['task_id']}/claim", headers=collector(auth)).status_code == 200

    tasks = client.get("/api/v1/tasks", headers=auditor).json()["items"]
    assert {t["name"] for t in tasks} == {"call", "legal_review", "file_claim"}
    assert client.get(f"/api/v1/tasks/{call['task_id']}", headers=auditor).status_code == 200
    assert {c["case_id"] for c in client.get("/api/v1/cases", headers=auditor).json()["items"]} == set(
        cases.values()
    )
    for case_id in cases.values():
        view = client.get(f"/api/v1/cases/{case_id}", headers=auditor).json()
        assert view["open_tasks"]
        assert client.get(f"/api/v1/cases/{case_id}/history", headers=auditor).json()["items"]
        assert client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auditor).json()["valid"]
    assert client.get("/api/v1/definitions", headers=auditor).status_code == 200
    assert client.get("/api/v1/audit/personal-data-reads", headers=auditor).status_code == 200

    before = _stored(services)
    loan_id = client.get(f"/api/v1/cases/{cases['mixed']}", headers=auditor).json()["loan_id"]
    task_url = f"/api/v1/tasks/{call['task_id']}"
    writes: list[tuple[str, dict[str, Any] | None]] = [
        (f"{task_url}/claim", None),
        (f"{task_url}/unclaim", None),
        (f"{task_url}/assign", {"user": "audrey"}),
        (f"{task_url}/complete", {"data": {"outcome": "no_answer"}}),
        (f"/api/v1/cases/{cases['mixed']}/cancel", {"reason": "audit"}),
        (f"/api/v1/cases/{cases['mixed']}/retry", {"variables": {}}),
        (
            "/api/v1/cases",
            {"process_key": "t_lanes", "loan_id": "L-AUD", "request_id": "r-aud", "variables": {}},
        ),
        ("/api/v1/events/overdue", overdue_event("L-AUD")),
        ("/api/v1/events/overdue:batch", {"events": [overdue_event("L-AUD")]}),
        (
            "/api/v1/events/payment",
            {
                "event_id": "p-aud",
                "loan_id": loan_id,
                "amount": "1.00",
                "paid_at": "2026-03-02T10:00:00+08:00",
            },
        ),
        (
            "/api/v1/messages",
            {"message_id": "m-aud", "name": "payment_received", "correlation": {"loan_id": loan_id}},
        ),
    ]
    for url, body in writes:
        response = client.post(url, headers=auditor, json=body)
        assert response.status_code == 403, (url, response.text)
    deploy = client.post(
        "/api/v1/definitions",
        headers=auditor,
        files=diagram_files("t_legal_only.bpmn", directory=LANES_DIAGRAMS),
    )
    assert deploy.status_code == 403
    assert _stored(services) == before


def test_personal_data_is_masked_for_those_who_do_not_work_the_case(
    client: TestClient, auth: TokenFactory, cases: dict[str, str]
) -> None:
    mixed = cases["mixed"]
    call = open_task(client, auth, mixed, "call")["task_id"]
    masked_readers = {
        "auditor": auth("auditor", sub="audrey"),
        "compliance": auth("compliance", sub="carol"),
        "supervisor of another group": auth("supervisor", groups=["mediators"], sub="mia"),
    }
    for who, headers in masked_readers.items():
        response = client.get(f"/api/v1/cases/{mixed}", headers=headers)
        if who.startswith("supervisor"):
            assert response.status_code == 404  # not even visible
            continue
        borrower = response.json()["variables"]["borrower"]
        assert borrower == {
            "id": "B-0001",
            "name": "王**",
            "phone": "138****5678",
            "email": "w**@example.com",
            "address": "北京市朝阳区*****",
            "id_number": "1101**********1234",
            "timezone": "Asia/Shanghai",
        }, who
    detail = client.get(f"/api/v1/tasks/{call}", headers=masked_readers["auditor"]).json()
    assert detail["case"]["borrower"]["phone"] == "138****5678"
    assert "王**" in detail["instructions"] and "138****5678" in detail["instructions"]
    assert "13812345678" not in str(detail)

    plain = client.get(f"/api/v1/cases/{mixed}", headers=collector(auth)).json()["variables"]["borrower"]
    assert plain == BORROWER
    assert client.get(f"/api/v1/tasks/{call}", headers=collector(auth)).json()["case"]["borrower"] == BORROWER


def test_every_unmasked_read_is_recorded(
    client: TestClient, auth: TokenFactory, services: Services, cases: dict[str, str]
) -> None:
    mixed = cases["mixed"]
    call = open_task(client, auth, mixed, "call")["task_id"]
    with services.db.read() as session:
        start_count = session.query(PersonalDataRead).count()  # open_task read as admin: logged

    client.get(f"/api/v1/cases/{mixed}", headers=collector(auth))
    client.get(f"/api/v1/tasks/{call}", headers=collector(auth))
    client.get(f"/api/v1/cases/{mixed}/history", headers=collector(auth))
    client.get(f"/api/v1/cases/{mixed}", headers=auth("auditor"))  # masked: not a read of personal data
    client.get(f"/api/v1/tasks/{call}", headers=auth("auditor"))
    client.get("/api/v1/tasks", headers=collector(auth))  # lists carry no personal data

    page = client.get(
        "/api/v1/audit/personal-data-reads", headers=auth("compliance"), params={"actor": "alice"}
    ).json()
    reads = page["items"]
    assert [(r["access"], r["case_id"]) for r in reads] == [
        ("history", mixed),
        ("task_detail", mixed),
        ("case_view", mixed),
    ]
    assert reads[1]["task_id"] == call
    assert reads[2]["fields"] == [
        "borrower.address",
        "borrower.email",
        "borrower.id_number",
        "borrower.name",
        "borrower.phone",
    ]
    assert reads[2]["roles"] == ["collector"] and reads[2]["loan_id"]
    with services.db.read() as session:
        assert session.query(PersonalDataRead).count() == start_count + 3

    by_case = client.get(
        "/api/v1/audit/personal-data-reads", headers=auth("auditor"), params={"case_id": mixed, "limit": 1}
    ).json()
    assert len(by_case["items"]) == 1 and by_case["next_cursor"]
    rest = client.get(
        "/api/v1/audit/personal-data-reads",
        headers=auth("auditor"),
        params={"case_id": mixed, "cursor": by_case["next_cursor"], "limit": 200},
    ).json()
    assert len(rest["items"]) == start_count + 2 and rest["next_cursor"] is None
    assert client.get("/api/v1/audit/personal-data-reads", headers=collector(auth)).status_code == 403
    naive = client.get(
        "/api/v1/audit/personal-data-reads", headers=auth("auditor"), params={"from": "2026-03-02T00:00:00"}
    )
    assert naive.status_code == 422
