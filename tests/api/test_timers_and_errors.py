"""Timers fire on the injected clock exactly once (also after a restart); failing scripts put
the case in error without stopping the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, diagram_files, start_case
from xinedai_workflow.bootstrap import Services, build_services, build_worker
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.settings import Settings
from xinedai_workflow.worker.runner import Worker


def _work_call(client: TestClient, auth: TokenFactory, case_id: str, outcome: str) -> dict[str, Any]:
    alice = auth("collector", groups=["collectors"], sub="alice")
    task = client.get(f"/api/v1/tasks?case_id={case_id}", headers=alice).json()["items"][0]
    assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice).status_code == 200
    response = client.post(
        f"/api/v1/tasks/{task['task_id']}/complete", headers=alice, json={"data": {"outcome": outcome}}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_three_day_timer_fires_once_when_the_clock_passes_it_even_after_a_restart(
    client: TestClient, auth: TokenFactory, deployed: Any, settings: Settings, clock: ManualClock
) -> None:
    case_id = start_case(client, auth)
    after_call = _work_call(client, auth, case_id, "refused")
    timers = [w for w in after_call["waiting"] if w["kind"] == "timer"]
    assert len(timers) == 1 and timers[0]["name"] == "Wait three days"

    # "restart": a new service graph (new caches, new worker) on the same database
    restarted = build_services(settings, clock)
    try:
        worker = build_worker(restarted, name="after-restart")
        clock.advance(timedelta(days=2, hours=23))
        assert worker.run_once() == 0
        clock.advance(timedelta(hours=2))
        assert worker.fire_due_timers() == 1
        assert worker.fire_due_timers() == 0
        clock.advance(timedelta(days=30))
        assert worker.fire_due_timers() == 0
    finally:
        restarted.db.dispose()

    case = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()
    assert case["stage"] == "review" and [t["name"] for t in case["open_tasks"]] == ["review"]
    assert case["variables"]["reviewed_amount"] == "2400.00"
    history = client.get(f"/api/v1/cases/{case_id}/history?limit=200", headers=auth("admin")).json()["items"]
    assert [h["action"] for h in history].count("timer_fired") == 1


def test_runaway_script_marks_the_case_error_and_the_worker_goes_on(
    client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: ManualClock
) -> None:
    assert (
        client.post(
            "/api/v1/definitions", headers=auth("compliance"), files=diagram_files("t_runaway.bpmn")
        ).status_code
        == 201
    )
    client.post(
        "/api/v1/definitions",
        headers=auth("compliance"),
        files=diagram_files("t_collect.bpmn", "t_route.dmn", "t_call_form.json"),
    )
    spinning = start_case(client, auth, key="t_runaway")
    healthy = start_case(client, auth)
    _work_call(client, auth, healthy, "refused")
    clock.advance(timedelta(days=4))
    assert worker.fire_due_timers() == 2

    failed = client.get(f"/api/v1/cases/{spinning}", headers=auth("admin")).json()
    assert failed["status"] == "error"
    assert failed["error"]["element_id"] == "spin" and "time limit" in failed["error"]["message"]
    assert client.get(f"/api/v1/cases/{healthy}", headers=auth("admin")).json()["stage"] == "review"
    history = client.get(f"/api/v1/cases/{spinning}/history", headers=auth("admin")).json()["items"]
    assert history[-1]["action"] == "case_error" and history[-1]["element_id"] == "spin"
    assert (
        client.get("/api/v1/cases?status=error", headers=auth("admin")).json()["items"][0]["case_id"]
        == spinning
    )
