"""The inbox: visibility by lane, filters, ordering, cursor pagination, badge counts, task detail."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.tasks.helpers import BORROWER, LOAN_FIGURES, collector, deploy_lanes, open_task, start
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask
from xinedai_workflow.db.models.cases import NO_DUE_DATE
from xinedai_workflow.domain.interest import compute_claim


@pytest.fixture
def lanes(client: TestClient, auth: TokenFactory) -> None:
    deploy_lanes(client, auth)


def _items(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tasks", headers=headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_worker_sees_only_the_tasks_of_their_lanes(
    client: TestClient, auth: TokenFactory, lanes: None
) -> None:
    case_id = start(client, auth)
    mine = _items(client, collector(auth), case_id=case_id)
    assert [t["name"] for t in mine] == ["call"]
    assert mine[0]["lane"] == "collectors" and mine[0]["stage"] == "informal"
    assert set(mine[0]) >= {
        "task_id",
        "case_id",
        "loan_id",
        "name",
        "title",
        "lane",
        "stage",
        "assignee",
        "priority",
        "due_at",
        "created_at",
    }
    legal = _items(client, auth("legal", groups=["legal"], sub="lena"), case_id=case_id)
    assert [t["name"] for t in legal] == ["legal_review"]
    both = _items(client, auth("supervisor", groups=["collectors", "legal"]), case_id=case_id)
    assert [t["name"] for t in both] == ["legal_review", "call"]  # priority 8 before 5
    assert len(_items(client, auth("auditor"), case_id=case_id)) == 2
    assert _items(client, auth("collector", groups=[]), case_id=case_id) == []


def test_filters_assigned_group_stage_and_case(client: TestClient, auth: TokenFactory, lanes: None) -> None:
    first, second = start(client, auth), start(client, auth)
    task = open_task(client, auth, first, "call")
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=collector(auth)).status_code == 200
    sup = auth("supervisor", groups=["collectors", "legal"], sub="sam")
    assert [t["case_id"] for t in _items(client, collector(auth), assigned="me")] == [first]
    assert [t["case_id"] for t in _items(client, collector(auth), assigned="unassigned")] == [second]
    assert _items(client, collector(auth, "bob"), assigned="me") == []
    assert {t["name"] for t in _items(client, sup, group="legal")} == {"legal_review"}
    assert {t["name"] for t in _items(client, sup, stage="litigation")} == {"legal_review"}
    assert {t["name"] for t in _items(client, sup, stage="informal")} == {"call"}
    assert {t["case_id"] for t in _items(client, sup, case_id=second)} == {second}
    assert _items(client, collector(auth), group="legal") == []  # not one of their groups
    for bad in ({"assigned": "mine"}, {"stage": "nowhere"}, {"case_id": "x"}, {"limit": 0}, {"limit": 201}):
        response = client.get("/api/v1/tasks", headers=sup, params=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["details"]


def _seed_tasks(services: Services, lanes: list[str], count: int) -> None:
    """Open tasks with mixed priorities, due dates (some none) and equal creation times."""
    clock_now = services.clock.now()
    with services.db.write() as session:
        case = session.query(Case).first()
        assert case is not None
        for n in range(count):
            due = None if n % 5 == 0 else clock_now + timedelta(hours=n % 7)
            session.add(
                HumanTask(
                    id=uuid.uuid4(),
                    case_id=case.id,
                    element_id=f"seeded_{n}",
                    title=f"Seeded {n}",
                    lane=lanes[n % len(lanes)],
                    stage="informal",
                    priority=n % 3,
                    status="open",
                    due_at=due,
                    due_sort=due or NO_DUE_DATE,
                    created_at=clock_now + timedelta(minutes=n % 4),
                    loan_id=case.loan_id,
                )
            )


def test_cursor_pages_walk_every_task_once_in_inbox_order(
    client: TestClient, auth: TokenFactory, services: Services, lanes: None
) -> None:
    start(client, auth)
    _seed_tasks(services, ["collectors", "legal", "mediators"], 157)
    headers = auth("supervisor", groups=["collectors", "mediators"])
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 20}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/tasks", headers=headers, params=params).json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    with services.db.read() as session:
        expected = session.query(HumanTask).filter(
            HumanTask.status == "open", HumanTask.lane.in_(["collectors", "mediators"])
        )
        rows = sorted(expected, key=lambda t: (-t.priority, t.due_sort, t.created_at, str(t.id)))
    assert [t["task_id"] for t in seen] == [str(r.id) for r in rows]
    assert len({t["task_id"] for t in seen}) == len(seen) == len(rows)
    response = client.get("/api/v1/tasks", headers=headers, params={"cursor": "not-a-cursor"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "cursor"


def test_counts_for_the_badges(
    client: TestClient, auth: TokenFactory, clock: ManualClock, lanes: None
) -> None:
    first = start(client, auth)
    start(client, auth)
    task = open_task(client, auth, first, "call")
    client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=collector(auth))
    counts = client.get("/api/v1/tasks/counts", headers=collector(auth)).json()
    assert counts == {
        "assigned_to_me": 1,
        "unassigned": 1,
        "any": 2,
        "overdue": 0,
        "by_group": {"collectors": 2},
        "by_stage": {"informal": 2},
    }
    clock.advance(timedelta(hours=25))  # the calls were due in a day
    sup = client.get(
        "/api/v1/tasks/counts", headers=auth("supervisor", groups=["collectors", "legal"])
    ).json()
    assert sup["any"] == 4 and sup["overdue"] == 2 and sup["assigned_to_me"] == 0
    assert sup["by_group"] == {"collectors": 2, "legal": 2}
    assert sup["by_stage"] == {"informal": 2, "litigation": 2}


def test_task_detail_has_form_rendered_script_and_the_case_summary(
    client: TestClient, auth: TokenFactory, lanes: None
) -> None:
    case_id = start(client, auth)
    task = open_task(client, auth, case_id, "call")
    response = client.get(f"/api/v1/tasks/{task['task_id']}", headers=collector(auth))
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["form"]["properties"]["outcome"]["enum"] == ["no_answer", "promise_to_pay", "refused"]
    owed = compute_claim("2100.00", "262.50", "2026-02-25", "2026-03-02", "0.063")["outstanding"]
    assert detail["instructions"] == (
        f"Call 王小明 on 13812345678 about loan {task['loan_id']}: {owed['total']} CNY owed today."
    )
    brief = detail["case"]
    assert brief["borrower"] == BORROWER
    assert brief["amounts"]["total"] == owed["total"] and brief["amounts"]["penalty"] == owed["penalty"]
    assert brief["amounts"]["as_of"] == "2026-03-02" and brief["amounts"]["bucket"] == "M1"
    assert brief["days_past_due"] == 5
    assert brief["figures"]["overdue_principal"] == LOAN_FIGURES["overdue_principal"]
    assert [w["kind"] for w in brief["waiting"]] == ["timer", "message"]
    assert brief["recent_activity"][-1]["action"] == "case_started"
