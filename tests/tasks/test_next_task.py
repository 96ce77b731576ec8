"""POST /api/v1/tasks:next: the highest-priority free task, claimed atomically, one person per
borrower at a time, 409 when nothing is available."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.tasks.helpers import BORROWER, collector, deploy_lanes, live_server, start
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock


@pytest.fixture
def lanes(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)


def _next(client: TestClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return client.post("/api/v1/tasks:next", headers=headers, json=body or None)


def test_next_claims_the_highest_priority_task_of_the_callers_lanes(
    client: TestClient, auth: TokenFactory, lanes: None, clock: ManualClock
) -> None:
    first = start(client, auth, borrower={**BORROWER, "id": "B-1"})
    clock.advance(timedelta(minutes=1))
    start(client, auth, borrower={**BORROWER, "id": "B-2"})
    response = _next(client, collector(auth))
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["assignee"] == "alice" and task["lane"] == "collectors" and task["name"] == "call"
    assert task["case_id"] == first  # same priority and due: the older one first
    history = client.get(f"/api/v1/cases/{first}/history", headers=auth("admin")).json()["items"]
    assert history[-1]["action"] == "task_claimed" and history[-1]["actor"] == "alice"
    # the legal lane's task (priority 8) is not offered to a collector
    legal = _next(client, auth("legal", groups=["legal"], sub="lena"))
    assert legal.status_code == 200 and legal.json()["name"] == "legal_review"


def test_one_person_per_borrower_and_409_when_nothing_is_left(
    client: TestClient, auth: TokenFactory, lanes: None, clock: ManualClock
) -> None:
    # two loans of the same borrower, and one of another borrower (oldest first)
    start(client, auth, borrower={**BORROWER, "id": "B-same"})
    clock.advance(timedelta(minutes=1))
    start(client, auth, borrower={**BORROWER, "id": "B-same"})
    clock.advance(timedelta(minutes=1))
    other = start(client, auth, borrower={**BORROWER, "id": "B-other"})
    alice = _next(client, collector(auth, "alice")).json()
    bob = _next(client, collector(auth, "bob"))
    assert bob.status_code == 200
    assert bob.json()["case_id"] == other  # alice holds B-same: bob gets the other borrower
    carol = _next(client, collector(auth, "carol"))
    assert carol.status_code == 409
    assert carol.json()["error"]["code"] == "no_task_available"
    # alice herself may take the borrower's second loan
    again = _next(client, collector(auth, "alice"))
    assert again.status_code == 200 and again.json()["case_id"] != alice["case_id"]


def test_next_filters_and_roles(client: TestClient, auth: TokenFactory, lanes: None) -> None:
    start(client, auth)
    assert _next(client, collector(auth), stage="litigation").status_code == 409
    assert _next(client, collector(auth), group="legal").status_code == 409  # not one of alice's lanes
    assert _next(client, auth("auditor")).status_code == 403
    assert _next(client, collector(auth), stage="nope").status_code == 422
    assert _next(client, collector(auth), unknown=1).status_code == 422
    assert client.post("/api/v1/tasks:next").status_code == 401
    assert _next(client, collector(auth), stage="informal").status_code == 200


def test_concurrent_next_calls_never_share_a_task_or_a_borrower(
    services: Services, client: TestClient, auth: TokenFactory, lanes: None
) -> None:
    for i in range(6):
        start(client, auth, borrower={**BORROWER, "id": f"B-{i % 3}"})
    people = [f"c{i}" for i in range(6)]
    results: dict[str, httpx.Response] = {}
    with live_server(services) as base:
        barrier = threading.Barrier(len(people))

        def take(sub: str) -> None:
            barrier.wait()
            results[sub] = httpx.post(f"{base}/api/v1/tasks:next", headers=collector(auth, sub), timeout=30)

        threads = [threading.Thread(target=take, args=(p,)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    won = [r.json() for r in results.values() if r.status_code == 200]
    assert all(r.status_code in (200, 409) for r in results.values()), [r.text for r in results.values()]
    assert len(won) == 3  # three borrowers: one person each
    assert len({t["task_id"] for t in won}) == 3
    views = [client.get(f"/api/v1/cases/{t['case_id']}", headers=auth("admin")).json() for t in won]
    assert len({v["variables"]["borrower"]["id"] for v in views}) == 3
