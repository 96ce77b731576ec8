"""POST /cases/{id}/migrate over real HTTP, SQLite and PostgreSQL, with real SpiffWorkflow."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TokenFactory
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask, OutboxMessage, Timer
from xinedai_workflow.worker.runner import Worker

from .conftest import Deploy, StartCase, case_view, claim, complete, history, migrate


def _changes(report: dict[str, Any]) -> dict[str, str]:
    return {c["element_id"]: c["change"] for c in report["changes"]}


def test_a_case_at_the_call_moves_to_a_version_with_an_sms_before_the_call_and_goes_on(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
    services: Services,
) -> None:
    assert deploy("m_collect", "m_collect_v1.bpmn") == 1
    case_id = start()
    assert deploy("m_collect", "m_collect_v2.bpmn") == 2
    before = case_view(client, auth, case_id)
    task_id = before["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)

    response = migrate(client, auth, case_id, 2, reason="SMS before every call")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["case_id"] == case_id
    assert (report["from_version"], report["to_version"], report["dry_run"], report["applied"]) == (
        1,
        2,
        False,
        True,
    )
    changes = _changes(report)
    assert changes["sms"] == "added" and changes["call"] == "kept" and changes["start"] == "kept"
    assert all(set(c) == {"element_id", "change", "detail"} for c in report["changes"])

    after = case_view(client, auth, case_id)
    assert after["definition"] == {"key": "m_collect", "version": 2}
    assert [(t["task_id"], t["assignee"]) for t in after["open_tasks"]] == [(task_id, "alice")]
    entry = [h for h in history(client, auth, case_id) if h["action"] == "case_migrated"][-1]
    assert entry["data"]["from"] == 1 and entry["data"]["to"] == 2 and entry["data"]["mapping"] == {}
    assert {c["element_id"] for c in entry["data"]["changes"]} >= {"sms", "call"}
    assert entry["definition_version"] == 2
    assert client.get(f"/api/v1/cases/{case_id}/history/verify", headers=auth("admin")).json()["valid"]

    waiting = complete(client, auth, task_id)
    assert [w["kind"] for w in waiting["waiting"]] == ["timer"]
    clock.advance(timedelta(days=3, minutes=1))
    worker.run_once()
    done = case_view(client, auth, case_id)
    assert done["status"] == "completed"
    with services.db.read() as session:  # the SMS was before the call: this case never sends it
        assert (
            session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == uuid.UUID(case_id))).first()
            is None
        )


def test_a_case_waiting_on_a_timer_keeps_its_due_time(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    clock: ManualClock,
    services: Services,
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)
    waiting = complete(client, auth, task_id)["waiting"]
    deploy("m_collect", "m_collect_v2.bpmn")
    clock.advance(timedelta(hours=7))

    response = migrate(client, auth, case_id, 2)
    assert response.status_code == 200, response.text
    assert _changes(response.json())["wait"] == "kept"
    view = case_view(client, auth, case_id)
    assert view["waiting"] == waiting
    with services.db.read() as session:
        timers = list(session.scalars(select(Timer).where(Timer.case_id == uuid.UUID(case_id))))
    assert [t.due_at.isoformat() for t in timers] == [w["due_at"].replace("Z", "+00:00") for w in waiting]


def test_a_changed_timer_is_reset_from_the_migration_time(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase, clock: ManualClock
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)
    complete(client, auth, task_id)
    deploy("m_collect", "m_collect_v4.bpmn")  # the wait is ten days
    clock.advance(timedelta(hours=2))
    response = migrate(client, auth, case_id, 2)
    assert response.status_code == 200, response.text
    assert _changes(response.json())["wait"] == "reset"
    due = case_view(client, auth, case_id)["waiting"][0]["due_at"]
    assert due.startswith((clock.now() + timedelta(days=10)).date().isoformat())


def test_a_refused_migration_changes_nothing_and_a_mapping_carries_a_renamed_task_over(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase, services: Services
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)
    assert deploy("m_collect", "m_collect_v3.bpmn") == 2  # `call` renamed to `phone_call`
    with services.db.read() as session:
        row = session.get(Case, uuid.UUID(case_id))
        assert row is not None
        state_before, lock_before = row.state, row.lock_version
    entries_before = len(history(client, auth, case_id))

    refused = migrate(client, auth, case_id, 2)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "migration_refused"
    assert [d["element_id"] for d in error["details"]] == ["call"]
    assert all(set(d) == {"element_id", "message"} for d in error["details"])
    with services.db.read() as session:
        row = session.get(Case, row.id)
        assert row is not None and (row.state, row.lock_version, row.definition_version) == (
            state_before,
            lock_before,
            1,
        )
    assert len(history(client, auth, case_id)) == entries_before

    mapped = migrate(client, auth, case_id, 2, mapping={"call": "phone_call"})
    assert mapped.status_code == 200, mapped.text
    assert _changes(mapped.json())["call"] == "mapped"
    view = case_view(client, auth, case_id)
    assert [(t["task_id"], t["name"], t["assignee"]) for t in view["open_tasks"]] == [
        (task_id, "phone_call", "alice")
    ]
    with services.db.read() as session:
        task = session.get(HumanTask, uuid.UUID(task_id))
        assert task is not None and task.element_id == "phone_call" and task.assignee == "alice"
    complete(client, auth, task_id)


def test_revert_restores_the_old_version(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    deploy("m_collect", "m_collect_v2.bpmn")
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    assert migrate(client, auth, case_id, 2).status_code == 200
    back = migrate(client, auth, case_id, 1, reason="revert")
    assert back.status_code == 200, back.text
    assert _changes(back.json())["sms"] == "removed"
    view = case_view(client, auth, case_id)
    assert view["definition"]["version"] == 1
    assert [t["task_id"] for t in view["open_tasks"]] == [task_id]
    moves = [
        (h["data"]["from"], h["data"]["to"])
        for h in history(client, auth, case_id)
        if h["action"] == "case_migrated"
    ]
    assert moves == [(1, 2), (2, 1)]
    claim(client, auth, task_id)
    complete(client, auth, task_id)
    clock.advance(timedelta(days=4))
    worker.run_once()
    assert case_view(client, auth, case_id)["status"] == "completed"


def test_a_case_in_error_on_a_broken_version_moves_to_the_fixed_one_and_completes_after_retry(
    client: TestClient,
    auth: TokenFactory,
    deploy: Deploy,
    start: StartCase,
    worker: Worker,
    clock: ManualClock,
) -> None:
    deploy("m_fragile", "m_fragile_v1.bpmn")
    case_id = start("m_fragile", zero=0)
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)
    complete(client, auth, task_id)
    clock.advance(timedelta(days=3, minutes=1))
    worker.run_once()
    assert case_view(client, auth, case_id)["status"] == "error"
    assert deploy("m_fragile", "m_fragile_v2.bpmn") == 2

    response = migrate(client, auth, case_id, 2, reason="fix the division")
    assert response.status_code == 200, response.text
    assert _changes(response.json())["close"] == "reset"
    assert case_view(client, auth, case_id)["status"] == "error"
    retried = client.post(f"/api/v1/cases/{case_id}/retry", headers=auth("admin"), json={})
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "completed"
    assert retried.json()["definition"]["version"] == 2


def test_dry_run_reports_and_changes_nothing(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    deploy("m_collect", "m_collect_v2.bpmn")
    response = migrate(client, auth, case_id, 2, dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True and response.json()["applied"] is False
    assert _changes(response.json())["sms"] == "added"
    assert case_view(client, auth, case_id)["definition"]["version"] == 1
    assert not [h for h in history(client, auth, case_id) if h["action"] == "case_migrated"]


def test_roles_unknown_versions_and_bad_mappings(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase
) -> None:
    deploy("m_collect", "m_collect_v1.bpmn")
    case_id = start()
    deploy("m_collect", "m_collect_v2.bpmn")
    url = f"/api/v1/cases/{case_id}/migrate"
    for headers in (
        auth("supervisor", groups=["collectors"]),
        auth("collector", groups=["collectors"]),
        auth("auditor"),
    ):
        assert client.post(url, headers=headers, json={"to_version": 2}).status_code == 403
    assert client.post(url, headers=auth("admin"), json={"to_version": 2, "dry_run": True}).status_code == 200
    unknown = client.post(url, headers=auth("compliance"), json={"to_version": 9})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_version"
    missing = client.post(
        "/api/v1/cases/018f0000-0000-7000-8000-000000000000/migrate",
        headers=auth("compliance"),
        json={"to_version": 2},
    )
    assert missing.status_code == 404
    bad = client.post(url, headers=auth("compliance"), json={"to_version": 2, "mapping": {"nope": "call"}})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["element_id"] == "nope"
    assert client.post(url, headers=auth("compliance"), json={"to_version": "two"}).status_code == 422
    same = client.post(url, headers=auth("compliance"), json={"to_version": 1})
    assert same.status_code == 409 and same.json()["error"]["code"] == "already_on_version"
