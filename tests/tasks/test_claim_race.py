"""Claims under real concurrency: 20 users, 20 threads, one real uvicorn server, a real database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.tasks.helpers import collector, deploy_lanes, live_server, open_task, start
from xinedai_workflow.bootstrap import Services

USERS = 20


def test_of_twenty_simultaneous_claims_exactly_one_wins(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    task_id = open_task(client, auth, case_id, "call")["task_id"]
    headers = [collector(auth, f"user-{n:02d}") for n in range(USERS)]
    barrier = threading.Barrier(USERS)

    with live_server(services) as base_url:

        def claim(user_headers: dict[str, str]) -> httpx.Response:
            with httpx.Client(base_url=base_url, timeout=60) as http:
                http.get("/health")  # connect first, so the claims leave together
                barrier.wait()
                return http.post(f"/api/v1/tasks/{task_id}/claim", headers=user_headers)

        with ThreadPoolExecutor(USERS) as pool:
            responses = list(pool.map(claim, headers))

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (USERS - 1), [
        r.text for r in responses if r.status_code not in (200, 409)
    ]
    winner = next(r.json()["assignee"] for r in responses if r.status_code == 200)
    assert all(r.json()["error"]["code"] == "already_claimed" for r in responses if r.status_code == 409)
    assert open_task(client, auth, case_id, "call")["assignee"] == winner
    history = client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor")).json()["items"]
    claims = [e for e in history if e["action"] == "task_claimed"]
    assert [(e["actor"], e["data"]["assignee"]) for e in claims] == [(winner, winner)]
    assert client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("auditor")).json()["valid"]


def test_claim_unclaim_and_supervisor_assign(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)
    case_id = start(client, auth)
    task_id = open_task(client, auth, case_id, "call")["task_id"]
    alice, bob = collector(auth, "alice"), collector(auth, "bob")
    supervisor = auth("supervisor", groups=["collectors"], sub="sam")

    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=alice).json()["assignee"] == "alice"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=alice).status_code == 200  # again: hers
    taken = client.post(f"/api/v1/tasks/{task_id}/claim", headers=bob)
    assert taken.status_code == 409 and taken.json()["error"]["details"] is None  # no name for peers
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=bob).status_code == 409
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=alice).json()["assignee"] is None
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=bob).status_code == 200

    assert (
        client.post(f"/api/v1/tasks/{task_id}/assign", headers=alice, json={"user": "alice"}).status_code
        == 403
    )
    moved = client.post(f"/api/v1/tasks/{task_id}/assign", headers=supervisor, json={"user": "alice"})
    assert moved.status_code == 200 and moved.json()["assignee"] == "alice"
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=supervisor).json()["assignee"] is None
    for bad in ({}, {"user": ""}, {"user": "x", "extra": 1}):
        assert client.post(f"/api/v1/tasks/{task_id}/assign", headers=supervisor, json=bad).status_code == 422

    legal_task = open_task(client, auth, case_id, "legal_review")["task_id"]
    other = client.post(f"/api/v1/tasks/{legal_task}/assign", headers=supervisor, json={"user": "alice"})
    assert other.status_code == 404  # a lane the supervisor does not supervise: invisible

    history = client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor")).json()["items"]
    actions = [
        (e["action"], e["actor"])
        for e in history
        if e["action"].startswith("task_") and e["actor"] != "system"
    ]
    assert actions == [
        ("task_claimed", "alice"),
        ("task_unclaimed", "alice"),
        ("task_claimed", "bob"),
        ("task_assigned", "sam"),
        ("task_unclaimed", "sam"),
    ]
    assigned = next(e for e in history if e["action"] == "task_assigned")
    assert assigned["data"] == {"task_id": task_id, "assignee": "alice", "previous_assignee": "bob"}
    assert assigned["element_id"] == "call"
