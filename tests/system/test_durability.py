"""Killing the service (kill -9) between API calls loses nothing that was acknowledged."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import overdue_event
from tests.service_processes import ApiProcess

pytestmark = pytest.mark.slow


def test_acknowledged_events_survive_a_hard_kill(service_process: ApiProcess) -> None:
    service_process.env["XINEDAI_DEFAULT_PROCESS_KEY"] = "t_collect"
    service_process.start()
    system = {"Authorization": f"Bearer {service_process.token('core', 'system')}"}
    admin = {"Authorization": f"Bearer {service_process.token('root', 'admin')}"}
    acknowledged: dict[str, str] = {}
    with httpx.Client(base_url=service_process.base_url, timeout=30) as http:
        for _ in range(30):
            event = overdue_event(f"K-{uuid.uuid4().hex[:8]}")
            response = http.post("/api/v1/events/overdue", headers=system, json=event)
            assert response.status_code == 201, response.text
            acknowledged[event["loan_id"]] = response.json()["case_id"]
        first_case = next(iter(acknowledged.values()))
        task = http.get(f"/api/v1/cases/{first_case}", headers=admin).json()["open_tasks"][0]
        alice = {"Authorization": f"Bearer {service_process.token('alice', 'collector', 'collectors')}"}
        assert http.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice).status_code == 200

    service_process.kill9()
    service_process.start()

    with httpx.Client(base_url=service_process.base_url, timeout=30) as http:
        for loan_id, case_id in acknowledged.items():
            case = http.get(f"/api/v1/cases/{case_id}", headers=admin)
            assert case.status_code == 200 and case.json()["loan_id"] == loan_id
        again = http.get(f"/api/v1/cases/{first_case}", headers=admin).json()["open_tasks"][0]
        assert again["assignee"] == "alice"
        verify = http.get(f"/api/v1/cases/{first_case}/history/verify", headers=admin).json()
        assert verify["valid"] is True
