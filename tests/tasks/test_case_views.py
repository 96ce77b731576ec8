"""Case views: the list with filters and cursor pages, and the detail a collector acts on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.tasks.helpers import collector, deploy_lanes, open_task, start
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.domain.interest import compute_claim


def _all_pages(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/cases", headers=headers, params=query)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def test_case_list_filters_and_pages(client: TestClient, auth: TokenFactory, clock: ManualClock) -> None:
    deploy_lanes(client, auth)
    started = []
    for n in range(7):
        clock.advance(timedelta(minutes=1))
        started.append(start(client, auth, loan_id=f"L-LIST-{n}"))
    legal_only = start(client, auth, key="t_legal_only", loan_id="L-LIST-LEGAL")
    cancelled = started[0]
    sup = auth("supervisor", groups=["collectors"], sub="sam")
    assert (
        client.post(f"/api/v1/cases/{cancelled}/cancel", headers=sup, json={"reason": "x"}).status_code == 200
    )

    everything = _all_pages(client, auth("auditor"), limit=3)
    assert [c["case_id"] for c in everything] == [legal_only, *reversed(started)]  # newest first
    assert set(everything[0]) >= {"case_id", "loan_id", "status", "stage", "outcome", "definition"}
    assert _all_pages(client, collector(auth), limit=2) == [
        c for c in everything if c["case_id"] != legal_only
    ]
    assert [c["case_id"] for c in _all_pages(client, auth("auditor"), status="cancelled")] == [cancelled]
    assert [c["case_id"] for c in _all_pages(client, auth("auditor"), loan_id="L-LIST-3")] == [started[3]]
    assert {c["case_id"] for c in _all_pages(client, auth("auditor"), stage="closed")} == {cancelled}
    for bad in ({"limit": 0}, {"limit": 500}, {"status": "lost"}, {"cursor": "%%%"}):
        assert client.get("/api/v1/cases", headers=auth("auditor"), params=bad).status_code == 422, bad


def test_case_detail_shows_stage_tasks_waits_amounts_and_version(
    client: TestClient, auth: TokenFactory, clock: ManualClock
) -> None:
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    clock.advance(timedelta(days=3))  # the borrower's figures keep accruing penalty interest
    view = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
    assert view["status"] == "active" and view["stage"] in ("informal", "litigation")
    assert view["definition"] == {"key": "t_lanes", "version": 1}
    assert {t["name"] for t in view["open_tasks"]} == {"call", "legal_review"}
    assert [(w["kind"], w["name"]) for w in view["waiting"]] == [
        ("timer", "Call not made in two days"),
        ("message", "payment_received"),
    ]
    assert view["waiting"][0]["due_at"].startswith("2026-03-04T01:00:00")
    expected = compute_claim("2100.00", "262.50", "2026-02-25", "2026-03-05", "0.063")
    amounts = view["amounts"]
    assert amounts["as_of"] == "2026-03-05" and amounts["days_past_due"] == 8
    assert amounts["total"] == expected["outstanding"]["total"]
    assert amounts["penalty"] == expected["outstanding"]["penalty"]
    # 262.50 of contract interest is 714 days' interest on 2,100.00 at 6.3%: 722 days of charges
    # (interest, penalty, compound) come to 6.35% a year, far under the 24% cap
    assert amounts["cap_exceeded"] is False and amounts["claimable_total"] == amounts["total"]
    assert amounts["cap"]["period_from"] == "2024-03-13" and amounts["cap"]["annualised_rate_pct"] == "6.35%"
    assert isinstance(amounts["principal"], str) and amounts["principal"] == "2100.00"


def test_payments_recorded_by_the_diagram_reduce_what_is_owed(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)
    payments = [{"paid_at": "2026-02-28T10:00:00+08:00", "amount": "500.00"}]
    case_id = start(client, auth, payments=payments)
    amounts = client.get(f"/api/v1/cases/{case_id}", headers=collector(auth)).json()["amounts"]
    expected = compute_claim(
        "2100.00",
        "262.50",
        "2026-02-25",
        "2026-03-02",
        "0.063",
        payments=[{"paid_on": "2026-02-28", "amount": "500"}],
    )
    assert amounts["total"] == expected["outstanding"]["total"]
    assert sum(Decimal(v) for v in amounts["paid"].values()) == Decimal("500.00")


def test_a_case_without_loan_figures_has_no_amounts(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)
    case_id = start(client, auth, key="t_legal_only")
    body = {
        "process_key": "t_legal_only",
        "loan_id": "L-BARE",
        "request_id": "bare-1",
        "variables": {"annual_rate": "not a rate", "overdue_principal": "1", "due_date": "2026-01-01"},
    }
    bare = client.post("/api/v1/cases", headers=auth("system"), json=body).json()["case_id"]
    assert client.get(f"/api/v1/cases/{bare}", headers=auth("admin")).json()["amounts"] is None
    task = open_task(client, auth, case_id, "file_claim")
    detail = client.get(f"/api/v1/tasks/{task['task_id']}", headers=auth("legal", groups=["legal"])).json()
    assert detail["case"]["amounts"]["bucket"] == "M1" and detail["instructions"] is None
