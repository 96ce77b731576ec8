"""POST /batches and its progress, pause, resume and cancel, run by real workers on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TokenFactory
from xinedai_workflow.batches.operations import BatchOperations
from xinedai_workflow.batches.runner import BatchRunner
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import BlockedContact, OutboxMessage
from xinedai_workflow.worker.runner import Worker

from .conftest import Deploy, StartCase, case_view, claim, history


def batch(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/batches", headers=headers, json=body)


def status(client: TestClient, auth: TokenFactory, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{batch_id}", headers=auth("compliance", "supervisor"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_migrate_batch_plans_then_runs_idempotently_with_each_case_in_its_own_history(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase, worker: Worker
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    cases = [start() for _ in range(6)]
    claimed = case_view(client, auth, cases[0])["open_tasks"][0]["task_id"]
    claim(client, auth, claimed)
    deploy("m_collect", "m_collect_v2.bpmn")
    body = {
        "operation": "migrate",
        "filter": {"process_key": "m_collect", "version": 1},
        "params": {"to_version": 2, "mapping": {}, "reason": "SMS before the call"},
    }
    plan = batch(client, auth("compliance"), **body, dry_run=True)
    assert plan.status_code == 200, plan.text
    assert plan.json()["total"] == 6
    sample = plan.json()["sample"]
    assert {s["case_id"] for s in sample} == set(cases)
    for report in sample:
        assert (report["from_version"], report["to_version"], report["applied"]) == (1, 2, False)
        assert {"element_id": "sms", "change": "added"}.items() <= next(
            c for c in report["changes"] if c["element_id"] == "sms"
        ).items()
    assert all(case_view(client, auth, c)["definition"]["version"] == 1 for c in cases)

    request_id = str(uuid.uuid4())
    created = batch(client, auth("compliance"), **body, request_id=request_id)
    assert created.status_code == 202, created.text
    assert created.json()["total"] == 6
    replay = batch(client, auth("compliance"), **body, request_id=request_id)
    assert replay.status_code == 200 and replay.json() == created.json()
    clash = batch(client, auth("compliance"), **{**body, "params": {"to_version": 1}}, request_id=request_id)
    assert clash.status_code == 409
    batch_id = created.json()["batch_id"]
    assert status(client, auth, batch_id)["status"] == "pending"

    worker.run_once()
    view = status(client, auth, batch_id)
    assert (view["status"], view["total"], view["done"], view["failed"], view["errors"]) == (
        "completed",
        6,
        6,
        0,
        [],
    )
    assert view["created_by"] == "compliance-user" and view["finished_at"] is not None
    for case_id in cases:
        assert case_view(client, auth, case_id)["definition"]["version"] == 2
        assert [h["action"] for h in history(client, auth, case_id)].count("case_migrated") == 1
    assert case_view(client, auth, cases[0])["open_tasks"][0]["assignee"] == "alice"


def test_a_failed_case_is_listed_and_does_not_stop_the_batch(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase, worker: Worker
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    loans = [f"L-fail-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    cases = [start(loan_id=loan) for loan in loans]
    supervisor = auth("supervisor", groups=["collectors"])
    created = batch(
        client, supervisor, operation="cancel", filter={"loan_ids": loans}, params={"reason": "sold"}
    )
    assert created.status_code == 202, created.text
    # one case ends before the workers reach it
    cancelled = client.post(
        f"/api/v1/cases/{cases[1]}/cancel", headers=auth("admin"), json={"reason": "paid"}
    )
    assert cancelled.status_code == 200, cancelled.text
    worker.run_once()
    view = status(client, auth, created.json()["batch_id"])
    assert (view["status"], view["done"], view["failed"]) == ("completed", 2, 1)
    assert [e["case_id"] for e in view["errors"]] == [cases[1]]
    assert "case_ended" in view["errors"][0]["error"]
    assert [case_view(client, auth, c)["status"] for c in cases] == ["cancelled"] * 3


def test_pause_resume_and_cancel_a_batch(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    services: Services,
    clock: ManualClock,
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    cases = [start() for _ in range(5)]
    deploy("m_collect", "m_collect_v2.bpmn")
    created = batch(
        client,
        auth("compliance"),
        operation="migrate",
        filter={"process_key": "m_collect"},
        params={"to_version": 2},
        request_id=str(uuid.uuid4()),
    )
    batch_id = created.json()["batch_id"]
    runner = BatchRunner(
        services.uow,
        clock,
        BatchOperations(services.runtime, services.registry, clock),
        2,
        timedelta(seconds=60),
    )
    assert runner.run_once("w1") == 2
    assert status(client, auth, batch_id)["status"] == "running"
    paused = client.post(f"/api/v1/batches/{batch_id}/pause", headers=auth("compliance"))
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert runner.run_once("w1") == 0
    resumed = client.post(f"/api/v1/batches/{batch_id}/resume", headers=auth("compliance"))
    assert resumed.json()["status"] == "running"
    assert runner.run_once("w2") == 2
    cancelled = client.post(f"/api/v1/batches/{batch_id}/cancel", headers=auth("compliance"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert runner.run_once("w1") == 0
    view = status(client, auth, batch_id)
    assert (view["status"], view["total"], view["done"], view["failed"]) == ("cancelled", 5, 4, 0)
    assert view["finished_at"] is not None
    versions = sorted(case_view(client, auth, c)["definition"]["version"] for c in cases)
    assert versions == [1, 2, 2, 2, 2]
    again = client.post(f"/api/v1/batches/{batch_id}/resume", headers=auth("compliance"))
    assert again.status_code == 409


def test_roles_per_operation_and_bad_requests(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    start()
    migrate = {"operation": "migrate", "filter": {"process_key": "m_collect"}, "params": {"to_version": 1}}
    cancel = {"operation": "cancel", "filter": {"process_key": "m_collect"}, "params": {"reason": "x"}}
    pause = {
        "operation": "pause_contact",
        "filter": {"loan_ids": ["L1"]},
        "params": {"until": "2026-04-01T00:00:00+08:00", "reason": "flood"},
    }
    supervisor = auth("supervisor", groups=["collectors"])
    for body in (migrate, pause):
        response = batch(client, supervisor, **body, dry_run=True)
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_not_allowed"
    assert batch(client, auth("compliance"), **cancel, dry_run=True).status_code == 403
    assert batch(client, auth("collector", groups=["collectors"]), **cancel, dry_run=True).status_code == 403
    assert batch(client, auth("admin"), **cancel, dry_run=True).status_code == 200
    assert batch(client, supervisor, **cancel, dry_run=True).status_code == 200
    unknown = batch(client, auth("compliance"), **{**migrate, "params": {"to_version": 7}}, dry_run=True)
    assert unknown.status_code == 404
    no_key = batch(client, auth("compliance"), operation="migrate", params={"to_version": 1}, dry_run=True)
    assert no_key.status_code == 422
    bad_params = batch(client, auth("compliance"), **{**pause, "params": {"until": "tomorrow"}})
    assert bad_params.status_code == 422 and bad_params.json()["error"]["details"]
    assert batch(client, auth("compliance"), operation="explode").status_code == 422
    missing = client.get(f"/api/v1/batches/{uuid.uuid4()}", headers=auth("auditor"))
    assert missing.status_code == 404


def _sms(services: Services, loan_id: str) -> list[OutboxMessage]:
    with services.db.read() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.loan_id == loan_id)))


def test_pause_contact_stops_sms_for_exactly_the_selected_borrowers_and_resume_lets_them_go(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
    services: Services,
) -> None:
    deploy("m_remind", "m_remind.bpmn")
    tag = uuid.uuid4().hex[:6]
    a, b, c = (f"L-{name}-{tag}" for name in "abc")
    for loan in (a, b, c):
        start("m_remind", loan_id=loan)
    until = clock.now() + timedelta(days=30)
    body = {
        "operation": "pause_contact",
        "filter": {"loan_ids": [a, b]},
        "params": {"until": until.isoformat(), "reason": "typhoon in the province"},
    }
    plan = batch(client, auth("compliance"), **body, dry_run=True)
    assert plan.status_code == 200 and plan.json() == {"total": 2, "sample": [{"loan_id": a}, {"loan_id": b}]}
    created = batch(client, auth("compliance"), **body, request_id=str(uuid.uuid4()))
    assert created.status_code == 202, created.text
    worker.run_once()
    assert status(client, auth, created.json()["batch_id"])["status"] == "completed"
    late = start("m_remind", loan_id=a)  # opened after the pause: paused too

    clock.advance(timedelta(hours=1, minutes=1))
    worker.run_once()
    assert [m.status for m in _sms(services, c)] == ["sent"]
    for loan, count in ((a, 2), (b, 1)):
        messages = _sms(services, loan)
        assert [m.status for m in messages] == ["pending"] * count
        assert all(m.next_attempt_at == until for m in messages)
    with services.db.read() as session:
        rules = set(session.scalars(select(BlockedContact.rule).where(BlockedContact.loan_id.in_([a, b]))))
    assert rules == {"contact_paused"}
    deferred = [h for h in history(client, auth, late) if h["action"] == "contact_deferred"]
    assert deferred and deferred[0]["data"]["decision"]["rule"] == "contact_paused"

    resume = batch(
        client,
        auth("compliance"),
        operation="resume_contact",
        filter={"loan_ids": [a]},
        params={"reason": "over"},
    )
    assert resume.status_code == 202, resume.text
    worker.run_once()  # the resume runs after this round's outbox
    worker.run_once()
    assert [m.status for m in _sms(services, a)] == ["sent", "sent"]
    assert [m.status for m in _sms(services, b)] == ["pending"]
    assert "contact_resumed" in [h["action"] for h in history(client, auth, late)]

    clock.set(until + timedelta(minutes=1))
    worker.run_once()
    assert [m.status for m in _sms(services, b)] == ["sent"]


def test_cases_broken_by_a_bad_version_are_moved_and_retried_in_bulk(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
) -> None:
    deploy("m_fragile", "m_fragile_v1.bpmn")
    cases = [start("m_fragile", zero=0) for _ in range(3)]
    healthy = start("m_fragile", zero=0)  # stays at its call: not retried
    for case_id in cases:
        task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
        claim(client, auth, task_id)
        client.post(
            f"/api/v1/tasks/{task_id}/complete",
            headers=auth("collector", groups=["collectors"], sub="alice"),
            json={"data": {}},
        )
    clock.advance(timedelta(days=3, minutes=1))
    worker.run_once()
    assert [case_view(client, auth, c)["status"] for c in cases] == ["error"] * 3
    deploy("m_fragile", "m_fragile_v2.bpmn")

    moved = batch(
        client,
        auth("compliance"),
        operation="migrate",
        filter={"process_key": "m_fragile", "status": "error"},
        params={"to_version": 2, "reason": "fixed division"},
    )
    assert moved.status_code == 202 and moved.json()["total"] == 3
    worker.run_once()
    plan = batch(
        client,
        auth("supervisor", groups=["collectors"]),
        operation="retry",
        filter={"process_key": "m_fragile"},
        dry_run=True,
    )
    assert plan.status_code == 200 and plan.json()["total"] == 3
    retried = batch(
        client,
        auth("supervisor", groups=["collectors"]),
        operation="retry",
        filter={"process_key": "m_fragile"},
    )
    assert retried.status_code == 202, retried.text
    worker.run_once()
    assert status(client, auth, retried.json()["batch_id"])["done"] == 3
    for case_id in cases:
        view = case_view(client, auth, case_id)
        assert (view["status"], view["definition"]["version"]) == ("completed", 2)
    assert case_view(client, auth, healthy)["status"] == "active"
