"""A new episode is a new case: once a case's collection is over (it sits in review), the loan's
next overdue event opens a new case instead of updating the review case; the one-collecting-case
rule still holds for the new case, also under concurrent events. `t_episode`: a call, then a review
task marked stage `review`; payments and updates are caught at every wait state, the review's too."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import TokenFactory, complete_named_task, diagram_files, overdue_event
from tests.tasks.helpers import live_server
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case
from xinedai_workflow.settings import Settings

DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Overdue events start t_episode."""
    return settings.model_copy(update={"default_process_key": "t_episode"})


@pytest.fixture
def deployed(client: TestClient, auth: TokenFactory) -> None:
    files = diagram_files("t_episode.bpmn", directory=DIAGRAMS)
    response = client.post("/api/v1/definitions", headers=auth("compliance"), files=files)
    assert response.status_code == 201, response.text


def _post(client: TestClient, auth: TokenFactory, event: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/events/overdue", headers=auth("system"), json=event)


def _case(client: TestClient, auth: TokenFactory, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _actions(client: TestClient, auth: TokenFactory, case_id: str) -> list[str]:
    items = client.get(f"/api/v1/cases/{case_id}/history?limit=200", headers=auth("admin")).json()["items"]
    return [h["action"] for h in items]


def _into_review(client: TestClient, auth: TokenFactory, loan_id: str) -> str:
    """Open the loan's case by an overdue event and complete its call: collection over, in review."""
    opened = _post(client, auth, overdue_event(loan_id))
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    complete_named_task(client, auth, case_id, "call")
    case = _case(client, auth, case_id)
    assert case["status"] == "active" and case["stage"] == "review", case
    assert [t["name"] for t in case["open_tasks"]] == ["review"]
    assert {w["name"] for w in case["waiting"] if w["kind"] == "message"} >= {
        "payment_received",
        "overdue_updated",
    }
    return case_id


def _cases_of(services: Services, loan_id: str) -> list[Case]:
    with services.db.read() as session:
        return list(session.scalars(select(Case).where(Case.loan_id == loan_id).order_by(Case.created_at)))


def test_an_overdue_event_after_review_opens_a_new_case_and_the_review_case_stays(
    client: TestClient,
    auth: TokenFactory,
    deployed: Any,
    services: Services,
    clock: ManualClock,
) -> None:
    loan_id = f"L-{uuid.uuid4().hex[:10]}"
    reviewing = _into_review(client, auth, loan_id)
    review_actions = _actions(client, auth, reviewing)

    again = overdue_event(loan_id, days_past_due=40)
    opened = _post(client, auth, again)
    assert opened.status_code == 201, opened.text
    fresh = opened.json()["case_id"]
    assert fresh != reviewing and opened.json()["status"] == "active"
    new_case = _case(client, auth, fresh)
    assert new_case["stage"] == "informal" and new_case["variables"]["prior_overdue_count"] == 1
    assert new_case["variables"]["days_past_due"] == 40

    # the review case is untouched: no update filed on it, its review task still open
    old_case = _case(client, auth, reviewing)
    assert old_case["stage"] == "review" and [t["name"] for t in old_case["open_tasks"]] == ["review"]
    assert _actions(client, auth, reviewing) == review_actions

    # the contract still holds: a replay answers 200 with the same body, an update goes to the
    # collecting case (not the review case), a payment too
    replay = _post(client, auth, again)
    assert replay.status_code == 200 and replay.json() == opened.json()
    update = _post(client, auth, overdue_event(loan_id, days_past_due=41))
    assert update.status_code == 200 and update.json()["case_id"] == fresh
    payment = {
        "event_id": str(uuid.uuid4()),
        "loan_id": loan_id,
        "amount": "100.00",
        "paid_at": clock.now().isoformat(),
        "channel": "bank_transfer",
    }
    paid = client.post("/api/v1/events/payment", headers=auth("system"), json=payment)
    assert paid.status_code == 202 and paid.json()["case_id"] == fresh
    assert _actions(client, auth, reviewing) == review_actions

    rows = _cases_of(services, loan_id)
    assert [str(c.id) for c in rows] == [reviewing, fresh]
    assert [c.singleton_key is not None for c in rows] == [False, True]


def test_every_earlier_case_counts_as_an_episode(
    client: TestClient, auth: TokenFactory, deployed: Any
) -> None:
    loan_id = f"L-{uuid.uuid4().hex[:10]}"
    first = _into_review(client, auth, loan_id)
    complete_named_task(client, auth, first, "review")
    assert _case(client, auth, first)["status"] == "completed"
    second = _into_review(client, auth, loan_id)  # opened after a closed case: prior 1
    assert second != first and _case(client, auth, second)["variables"]["prior_overdue_count"] == 1
    opened = _post(client, auth, overdue_event(loan_id))  # one closed, one in review: prior 2
    assert opened.status_code == 201 and opened.json()["case_id"] not in (first, second)
    assert _case(client, auth, opened.json()["case_id"])["variables"]["prior_overdue_count"] == 2
    # the loan's first case has no such variable: the diagram's default applies
    assert "prior_overdue_count" not in _case(client, auth, first)["variables"]


def test_the_batch_opens_a_new_episode_as_the_single_endpoint_does(
    client: TestClient, auth: TokenFactory, deployed: Any, services: Services
) -> None:
    reviewed_loan = f"L-{uuid.uuid4().hex[:10]}"
    reviewing = _into_review(client, auth, reviewed_loan)
    collecting_loan = f"L-{uuid.uuid4().hex[:10]}"
    collecting = _post(client, auth, overdue_event(collecting_loan)).json()["case_id"]
    events = [
        overdue_event(reviewed_loan, days_past_due=35),
        overdue_event(reviewed_loan, days_past_due=36),
        overdue_event(collecting_loan, days_past_due=9),
        overdue_event(),
    ]
    response = client.post("/api/v1/events/overdue:batch", headers=auth("system"), json={"events": events})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["http_status"] for r in results] == [201, 200, 200, 201]
    fresh = results[0]["case_id"]
    assert fresh != reviewing and results[1]["case_id"] == fresh and results[2]["case_id"] == collecting
    assert _case(client, auth, fresh)["variables"]["prior_overdue_count"] == 1
    assert "prior_overdue_count" not in _case(client, auth, results[3]["case_id"])["variables"]
    assert [c.singleton_key is not None for c in _cases_of(services, reviewed_loan)] == [False, True]


@pytest.mark.parametrize("earlier", ["in_review", "none"])
def test_two_simultaneous_events_open_one_collecting_case(
    client: TestClient,
    auth: TokenFactory,
    deployed: Any,
    services: Services,
    earlier: str,
) -> None:
    loan_id = f"L-{uuid.uuid4().hex[:10]}"
    reviewing = _into_review(client, auth, loan_id) if earlier == "in_review" else None
    events = [overdue_event(loan_id, days_past_due=30 + n) for n in range(2)]
    headers = auth("system")
    barrier = threading.Barrier(len(events))

    with live_server(services) as base_url:

        def send(event: dict[str, Any]) -> httpx.Response:
            with httpx.Client(base_url=base_url, timeout=60) as http:
                http.get("/health")  # connect first, so both events leave together
                barrier.wait()
                return http.post("/api/v1/events/overdue", headers=headers, json=event)

        with ThreadPoolExecutor(len(events)) as pool:
            responses = list(pool.map(send, events))

    assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]
    case_ids = {r.json()["case_id"] for r in responses}
    assert len(case_ids) == 1 and reviewing not in case_ids
    with services.db.read() as session:
        holders = session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.loan_id == loan_id, Case.singleton_key.is_not(None))
        )
        total = session.scalar(select(func.count()).select_from(Case).where(Case.loan_id == loan_id))
    assert holders == 1 and total == (2 if reviewing else 1)
    if reviewing:
        assert _case(client, auth, case_ids.pop())["variables"]["prior_overdue_count"] == 1
