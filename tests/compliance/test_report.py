"""GET /api/v1/reports/compliance: contacts per borrower per day, blocked attempts by rule,
contacts in quiet hours and third-party contacts, per period of borrower-local days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from tests.compliance.conftest import StartCase, contacts, record_call
from tests.conftest import TokenFactory

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import RecordedContact
from xinedai_workflow.worker.runner import Worker


def report(client: TestClient, auth: TokenFactory, query: str, role: str = "compliance") -> Any:
    return client.get(f"/api/v1/reports/compliance?{query}", headers=auth(role))


def test_the_report_counts_contacts_blocks_and_third_parties(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    worker: Worker,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    alice = auth("collector", groups=["collectors"], sub="alice")
    calls = start("c_calls", borrower_id="B-r1")
    for outcome in ("promise_to_pay", "no_answer", "hardship", "refused"):
        assert record_call(client, alice, calls, outcome=outcome).status_code == 200
    assert record_call(client, alice, calls, outcome="promise_to_pay").status_code == 409
    start("c_burst", borrower_id="B-r2", timezone="America/New_York", burst=3)  # 20:00 on 1 March there
    start("c_burst", borrower_id="B-r3", burst=1, plan_kept=True)
    wrong = start("c_calls", borrower_id="B-r4")
    assert record_call(client, alice, wrong, outcome="wrong_party").status_code == 200
    worker.run_once()

    answer = report(client, auth, "from=2026-03-01&to=2026-03-02")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-02"
    assert body["policy_in_force"]["policy_version"] == "2025.1"
    assert body["contacts"] == {
        "total": 7,
        "attempts": 8,
        "borrowers": 3,
        "by_channel": {"call": 4, "sms": 3},
    }
    assert body["contacts_per_borrower_per_day"] == {
        "borrower_days": 3,
        "max": 3,
        "mean": "2.33",
        "distribution": {"1": 1, "3": 2},
    }
    assert body["connected_calls_per_borrower_per_day"]["distribution"] == {"1": 1, "3": 1}
    assert body["over_daily_cap"] == {"count": 0, "items": []}
    assert body["blocked_attempts"]["total"] == 2
    assert body["blocked_attempts"]["by_rule"] == {"daily_call_cap": 1, "plan_kept": 1}
    assert body["blocked_attempts"]["by_action"] == {"drop": 1, "refuse": 1}
    assert body["quiet_hours_contacts"] == {"count": 0, "items": []}
    assert body["third_party_contacts"] == {
        "total": 1,
        "emergency_contact": 0,
        "wrong_party": 1,
        "guarantor": 0,
    }

    one_day = report(client, auth, "from=2026-03-02&to=2026-03-02", "auditor").json()
    assert one_day["contacts"]["borrowers"] == 2 and one_day["contacts"]["by_channel"] == {"call": 4}


def test_the_report_finds_contacts_that_broke_the_rules(
    client: TestClient,
    auth: TokenFactory,
    services: Services,
    compliance_deployed: dict[str, Any],
    start: StartCase,
) -> None:
    """Rows written behind the guard's back (e.g. imported from an agency) are caught."""
    alice = auth("collector", groups=["collectors"], sub="alice")
    case_id = start("c_calls", borrower_id="B-bad")
    for outcome in ("promise_to_pay", "hardship", "refused"):
        assert record_call(client, alice, case_id, outcome=outcome).status_code == 200
    template = contacts(services, "B-bad")[0]
    with services.db.write() as session:
        session.add(
            RecordedContact(
                id=uuid.uuid4(),
                borrower_id="B-bad",
                case_id=template.case_id,
                loan_id=template.loan_id,
                channel="call",
                kind="human_recorded",
                target="borrower",
                purpose="collection",
                at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC),  # 23:30 in Shanghai
                timezone="Asia/Shanghai",
                local_date=date(2026, 3, 2),
                connected=True,
                conversation=True,
                actor="agency-import",
                policy_id=template.policy_id,
                policy_version=template.policy_version,
                policy_sha256=template.policy_sha256,
            )
        )
    body = report(client, auth, "from=2026-03-02&to=2026-03-02").json()
    assert body["quiet_hours_contacts"]["count"] == 1
    [night] = body["quiet_hours_contacts"]["items"]
    assert night["borrower_id"] == "B-bad" and night["local_time"].startswith("2026-03-02T23:30:00+08:00")
    assert body["over_daily_cap"]["count"] == 1
    [day] = body["over_daily_cap"]["items"]
    assert day["connected_calls"] == 4 and day["max_connected_calls"] == 3


def test_report_roles_and_periods(client: TestClient, auth: TokenFactory) -> None:
    assert report(client, auth, "from=2026-03-01&to=2026-03-02", "collector").status_code == 403
    assert report(client, auth, "from=2026-03-01&to=2026-03-02", "supervisor").status_code == 403
    for role in ("compliance", "auditor", "admin"):
        assert report(client, auth, "from=2026-03-01&to=2026-03-02", role).status_code == 200
    default = report(client, auth, "").json()
    assert (default["from"], default["to"]) == ("2026-02-01", "2026-03-02")
    assert report(client, auth, "from=2026-03-03&to=2026-03-02").status_code == 422
    too_long = report(client, auth, "from=2025-01-01&to=2026-03-02")
    assert too_long.status_code == 422 and too_long.json()["error"]["details"][0]["field"] == "to"
    assert report(client, auth, "from=yesterday").status_code == 422
    assert client.get("/api/v1/reports/compliance").status_code == 401
