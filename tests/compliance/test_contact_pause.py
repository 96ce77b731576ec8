"""A contact pause (batch `pause_contact`) holds for recorded human contacts too: the call is
refused with rule `contact_paused`, the pre-dial check says so, and `resume_contact` lifts it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import StartCase, record_call
from tests.conftest import TokenFactory

from xinedai_workflow.clock import ManualClock
from xinedai_workflow.worker.runner import Worker


def _batch(client: TestClient, auth: TokenFactory, operation: str, loan_id: str, **params: Any) -> None:
    body = {
        "operation": operation,
        "filter": {"loan_ids": [loan_id]},
        "params": params,
        "request_id": str(uuid.uuid4()),
    }
    response = client.post("/api/v1/batches", headers=auth("compliance"), json=body)
    assert response.status_code == 202, response.text


def test_a_paused_loan_refuses_recorded_calls_until_resumed(
    client: TestClient,
    auth: TokenFactory,
    compliance_deployed: dict[str, Any],
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    case_id = start("c_calls", borrower_id="B-paused")
    loan_id = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()["loan_id"]
    other = start("c_calls", borrower_id="B-free")
    until = clock.now() + timedelta(days=30)
    _batch(client, auth, "pause_contact", loan_id, until=until.isoformat(), reason="earthquake")
    worker.run_once()

    refused = record_call(client, alice, case_id, outcome="promise_to_pay")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "contact_not_allowed" and error["details"]["rule"] == "contact_paused"
    check = client.get(f"/api/v1/cases/{case_id}/contact-check?channel=call&target=borrower", headers=alice)
    assert (
        check.status_code == 200
        and check.json()["allowed"] is False
        and check.json()["rule"] == "contact_paused"
    )
    assert record_call(client, alice, other, outcome="promise_to_pay").status_code == 200

    _batch(client, auth, "resume_contact", loan_id, reason="over")
    worker.run_once()
    assert record_call(client, alice, case_id, outcome="promise_to_pay").status_code == 200
