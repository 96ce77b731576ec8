"""Complaints: a complaint pauses collection contact (a queued SMS is dropped), recalls the case
from the agency it names, opens a supervisor's review with a due date, is counted per agency and
per collector in the compliance report, and the review's completion resumes contact."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.agencies.conftest import agency_token, place, register
from tests.scenarios.conftest import Flow
from xinedai_workflow.db.models import BlockedContact, Complaint

SUPERVISOR = {"groups": ["supervisors"], "sub": "sup-1"}


def complaint(loan_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "loan_id": loan_id,
        "received_at": "2026-03-02T09:30:00+08:00",
        "category": "harassment",
        "summary": "借款人投诉催收电话过于频繁",
    }
    body.update(overrides)
    return body


def send(flow: Flow, body: dict[str, Any]) -> Any:
    return flow.client.post("/api/v1/events/complaint", headers=flow.system, json=body)


def test_a_complaint_stops_an_sms_that_was_queued(flow: Flow) -> None:
    case_id, loan_id = flow.overdue()
    queued = [r for r in flow.outbox(case_id) if r.operation == "send_sms"]
    assert queued and queued[0].status == "pending"  # not sent yet: the worker has not run
    answer = send(flow, complaint(loan_id, collector="alice"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["case_id"] == case_id and body["status"] == "open"
    assert datetime.fromisoformat(body["due_at"]) == datetime.fromisoformat("2026-03-17T09:30:00+08:00")

    flow.run_worker()
    sms = next(r for r in flow.outbox(case_id) if r.id == queued[0].id)
    assert sms.status == "dropped" and "complaint" in (sms.last_error or "")
    with flow.services.db.read() as session:
        rules = session.scalars(select(BlockedContact.rule).where(BlockedContact.outbox_id == sms.id)).all()
    assert rules == ["complaint_open"]
    assert "contact_dropped" in flow.actions(case_id) and "complaint_received" in flow.actions(case_id)

    # the supervisor's review, with its due date
    review = flow.open_task(case_id, "complaint_review")
    assert review["lane"] == "supervisors"
    due = datetime.fromisoformat(review["due_at"])
    assert due - flow.clock.now() == timedelta(days=15)
    collector = flow.auth("collector", groups=["collectors"], sub="alice")
    check = flow.client.get(f"/api/v1/cases/{case_id}/contact-check", headers=collector).json()
    assert check["allowed"] is False and check["rule"] == "complaint_open"
    facts = flow.client.get(f"/api/v1/cases/{case_id}/contact-facts", headers=collector).json()
    assert facts["complaint_open"] is True

    flow.work(
        case_id, "complaint_review", {"resolution": "rejected", "findings": "通话记录合规，每日不超过3次"}
    )
    with flow.services.db.read() as session:
        stored = session.scalars(select(Complaint).where(Complaint.case_id == uuid.UUID(case_id))).one()
    assert (
        stored.status == "resolved"
        and stored.resolution == "rejected"
        and stored.resolved_by == "supervisor-1"
    )
    check = flow.client.get(f"/api/v1/cases/{case_id}/contact-check", headers=collector).json()
    assert check["allowed"] is True
    assert "complaint_resolved" in flow.actions(case_id)
    flow.verify(case_id)


def test_a_complaint_naming_the_agency_recalls_the_case_and_is_counted(flow: Flow) -> None:
    register(flow, "AG-A")
    case_id, loan_id = flow.overdue()
    other, other_loan = flow.overdue()
    place(flow, "AG-A", case_id, other)
    headers = agency_token(flow, "AG-A")
    assert flow.client.get(f"/api/v1/agency/cases/{case_id}", headers=headers).status_code == 200

    body = send(flow, complaint(loan_id, agency_id="AG-A", collector="AG-A-collector")).json()
    assert body["recalled_placement_id"]
    assert flow.client.get(f"/api/v1/agency/cases/{case_id}", headers=headers).status_code == 404
    assert flow.client.get(f"/api/v1/agency/cases/{other}", headers=headers).status_code == 200
    # a complaint about the bank's own collector leaves the other placement alone
    send(flow, complaint(other_loan, collector="alice"))
    assert flow.client.get(f"/api/v1/agency/cases/{other}", headers=headers).status_code == 200

    report = flow.client.get("/api/v1/reports/compliance", headers=flow.auth("compliance")).json()
    assert report["complaints"] == {
        "total": 2,
        "open": 2,
        "by_agency": {"AG-A": 1, "bank": 1},
        "by_collector": {"AG-A-collector": 1, "alice": 1},
    }
    card = flow.client.get("/api/v1/agencies/AG-A/scorecard", headers=flow.auth("compliance")).json()
    assert card["complaints"] == 1
    placements = flow.client.get(
        "/api/v1/agencies/AG-A/placements?active=false", headers=flow.auth("compliance")
    )
    reasons = {p["case_id"]: p["recall_reason"] for p in placements.json()["items"]}
    assert reasons == {case_id: "complaint", other: None}


def test_complaint_events_are_idempotent_and_checked(flow: Flow) -> None:
    case_id, loan_id = flow.overdue()
    body = complaint(loan_id)
    first = send(flow, body)
    again = send(flow, body)
    assert first.status_code == 201 and again.status_code == 200 and again.json() == first.json()
    changed = send(flow, {**body, "summary": "另一内容"})
    assert changed.status_code == 409
    assert send(flow, complaint("XED-none")).status_code == 404
    assert send(flow, {**complaint(loan_id), "summary": ""}).status_code == 422
    as_collector = flow.client.post(
        "/api/v1/events/complaint",
        headers=flow.auth("collector", groups=["collectors"]),
        json=complaint(loan_id),
    )
    assert as_collector.status_code == 403
    with flow.services.db.read() as session:
        assert len(session.scalars(select(Complaint)).all()) == 1
    listed = flow.client.get("/api/v1/complaints?status=open", headers=flow.auth("compliance")).json()[
        "items"
    ]
    assert [c["case_id"] for c in listed] == [case_id]


def test_a_complaint_can_be_resolved_without_its_review_task(flow: Flow) -> None:
    _case_id, loan_id = flow.overdue()
    complaint_id = send(flow, complaint(loan_id)).json()["complaint_id"]
    supervisor = flow.auth("supervisor", **SUPERVISOR)
    resolved = flow.client.post(
        f"/api/v1/complaints/{complaint_id}/resolve",
        headers=supervisor,
        json={"resolution": "withdrawn", "note": "借款人撤回投诉"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    twice = flow.client.post(
        f"/api/v1/complaints/{complaint_id}/resolve",
        headers=supervisor,
        json={"resolution": "upheld", "note": "x"},
    )
    assert twice.status_code == 409
    hidden = flow.client.post(
        f"/api/v1/complaints/{complaint_id}/resolve",
        headers=flow.auth("supervisor", groups=["legal"], sub="sup-2"),
        json={"resolution": "upheld", "note": "x"},
    )
    assert hidden.status_code == 404
