"""GET /reports/kpis over real cases, calls and payments."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, overdue_event
from xinedai_workflow.clock import ManualClock


def test_kpis_from_cases_calls_and_payments(
    client: TestClient, auth: TokenFactory, deployed: dict[str, Any], clock: ManualClock
) -> None:
    system, alice = auth("system"), auth("collector", groups=["collectors"], sub="alice")
    case_ids = []
    for i, outcome in enumerate(("refused", "promise_to_pay", "no_answer")):
        event = overdue_event(f"KPI-{i}")
        case_ids.append(client.post("/api/v1/events/overdue", headers=system, json=event).json()["case_id"])
        task = client.get(f"/api/v1/tasks?case_id={case_ids[-1]}", headers=alice).json()["items"][0]
        client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice)
        data: dict[str, Any] = {"outcome": outcome}
        assert (
            client.post(
                f"/api/v1/tasks/{task['task_id']}/complete", headers=alice, json={"data": data}
            ).status_code
            == 200
        )
    clock.advance(timedelta(hours=1))
    payment = {"event_id": str(uuid.uuid4()), "loan_id": "KPI-1", "amount": "1181.25",
               "paid_at": "2026-03-02T10:00:00+08:00", "channel": "bank_transfer"}  # fmt: skip
    assert client.post("/api/v1/events/payment", headers=system, json=payment).status_code == 202
    clock.advance(timedelta(hours=1))

    report = client.get(
        "/api/v1/reports/kpis?from=2026-03-01&to=2026-03-31", headers=auth("supervisor")
    ).json()
    assert report["process_key"] == "t_collect" and report["cases_opened"] == 3
    # each case opened owing 2,365.60 (the claim of its first day, as the case view showed it)
    assert report["amount_overdue_at_open"] == "7096.80" and report["amount_collected"] == "1181.25"
    assert report["recovery_rate"] == "0.1664"
    assert report["contact_attempts"] == 3 and report["right_party_contact_rate"] == "0.6667"
    assert report["cases_per_stage"] == {"informal": 3}
    assert set(report["mean_time_in_stage_hours"]) == {"informal"}
    assert (
        client.get("/api/v1/reports/kpis", headers=auth("collector", groups=["collectors"])).status_code
        == 403
    )
    bad = client.get("/api/v1/reports/kpis?from=2026-04-01&to=2026-03-01", headers=auth("auditor"))
    assert bad.status_code == 422
