"""Fixtures for driving the real overdue process (processes/) end to end through the HTTP API.

Time is a `ManualClock`; the worker fires timers and drains the outbox into the local sink.
Delivery receipts are what a mail house or SMS gateway sends back through `POST /api/v1/messages`;
`Flow.confirm_deliveries` plays that external party with the references the channels returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PROCESSES, TokenFactory, overdue_event
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import OutboxMessage
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings
from xinedai_workflow.worker.runner import Worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLE_OF_LANE = {
    "collectors": "collector",
    "legal": "legal",
    "mediation": "mediator",
    "supervisors": "supervisor",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, but overdue events start the real process."""
    return settings.model_copy(update={"default_process_key": "xinedai_overdue"})


def deploy_processes(services: Services, directory: Path = PROCESSES) -> dict[str, int]:
    """Deploy a processes/ directory as compliance would; returns {key: version}."""
    result = services.definitions.deploy(read_bundle_dir([directory]), "compliance-test")
    return result.versions


class Flow:
    """One scenario's view of the service: events, tasks, time and the outbox."""

    def __init__(
        self, client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: ManualClock
    ) -> None:
        self.client, self.auth, self.services, self.worker, self.clock = client, auth, services, worker, clock
        self.system = auth("system")
        self.admin = auth("admin", sub="admin-1")

    # -- events -----------------------------------------------------------------------------
    def overdue(self, **overrides: Any) -> tuple[str, str]:
        """Send an overdue event; return (case_id, loan_id)."""
        overrides.setdefault("loan_id", f"XED-{uuid.uuid4().hex[:10]}")
        event = overdue_event(**overrides)
        response = self.client.post("/api/v1/events/overdue", headers=self.system, json=event)
        assert response.status_code == 201, response.text
        return response.json()["case_id"], event["loan_id"]

    def pay(self, loan_id: str, amount: str, when: datetime | None = None) -> None:
        body = {
            "event_id": str(uuid.uuid4()),
            "loan_id": loan_id,
            "amount": amount,
            "paid_at": (when or self.clock.now()).isoformat(),
            "channel": "bank_transfer",
        }
        response = self.client.post("/api/v1/events/payment", headers=self.system, json=body)
        assert response.status_code == 202, response.text

    def message(self, loan_id: str, name: str, payload: dict[str, Any]) -> None:
        body = {
            "message_id": str(uuid.uuid4()),
            "name": name,
            "correlation": {"loan_id": loan_id},
            "payload": payload,
        }
        response = self.client.post("/api/v1/messages", headers=self.system, json=body)
        assert response.status_code == 202, response.text

    # -- reading ----------------------------------------------------------------------------
    def case(self, case_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/cases/{case_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def history(self, case_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            response = self.client.get(f"/api/v1/cases/{case_id}/history", headers=self.admin, params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            items += body["items"]
            cursor = body.get("next_cursor")
            if not cursor:
                return items

    def stages(self, case_id: str) -> list[str]:
        """The stages the case entered, in order (history `stage_entered`)."""
        return [h["data"]["to"] for h in self.history(case_id) if h["action"] == "stage_entered"]

    def actions(self, case_id: str) -> list[str]:
        return [h["action"] for h in self.history(case_id)]

    def outbox(self, case_id: str) -> list[OutboxMessage]:
        with self.services.db.read() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.case_id == uuid.UUID(case_id))
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            ).all()
            session.expunge_all()
        return list(rows)

    def operations(self, case_id: str) -> list[str]:
        return [row.operation for row in self.outbox(case_id)]

    def verify(self, case_id: str) -> None:
        response = self.client.get(f"/api/v1/cases/{case_id}/history/verify", headers=self.admin)
        assert response.status_code == 200 and response.json()["valid"] is True, response.text

    # -- tasks ------------------------------------------------------------------------------
    def open_task(self, case_id: str, name: str) -> dict[str, Any]:
        tasks = [t for t in self.case(case_id)["open_tasks"] if t["name"] == name]
        assert tasks, f"no open task {name!r}: {[t['name'] for t in self.case(case_id)['open_tasks']]}"
        return tasks[0]

    def detail(self, case_id: str, name: str) -> dict[str, Any]:
        task = self.open_task(case_id, name)
        headers = self._worker_headers(task["lane"])
        response = self.client.get(f"/api/v1/tasks/{task['task_id']}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def _worker_headers(self, lane: str) -> dict[str, str]:
        role = ROLE_OF_LANE[lane]
        return self.auth(role, groups=[lane], sub=f"{role}-1")

    def work(self, case_id: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Claim and complete the open task `name` as a user of its lane; returns the case."""
        task = self.open_task(case_id, name)
        headers = self._worker_headers(task["lane"])
        claimed = self.client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        done = self.client.post(
            f"/api/v1/tasks/{task['task_id']}/complete", headers=headers, json={"data": data}
        )
        assert done.status_code == 200, done.text
        body: dict[str, Any] = done.json()
        return body

    # -- time and the worker ----------------------------------------------------------------
    def run_worker(self) -> int:
        total = 0
        for _ in range(20):
            done = self.worker.run_once()
            total += done
            if not done:
                return total
        return total

    def advance(self, delta: timedelta) -> None:
        """Move time on and let the worker catch up (timers, outbox)."""
        self.clock.advance(delta)
        self.run_worker()

    def advance_to_local(self, day_offset: int, hour: int) -> None:
        """Move to `hour` o'clock Shanghai time, `day_offset` days after today (local)."""
        local = self.clock.now().astimezone(SHANGHAI)
        target = datetime.combine(local.date() + timedelta(days=day_offset), datetime.min.time(), SHANGHAI)
        target = target.replace(hour=hour)
        assert target > local, f"{target} is not after {local}"
        self.advance(target - local)

    def confirm_deliveries(self, case_id: str, loan_id: str) -> list[str]:
        """Play the mail house / SMS gateway: a delivery receipt for every sent message."""
        references = []
        for row in self.outbox(case_id):
            if row.status != "sent" or row.operation == "report_to_mediator":
                continue
            reference = (row.result or {}).get("reference")
            request_id = row.idempotency_key.split(":", 1)[1]
            carrier = "EMS" if row.channel == "registered_mail" else "local-sink"
            self.message(
                loan_id,
                "notice_delivered",
                {
                    "request_id": request_id,
                    "channel": row.channel,
                    "reference": reference,
                    "carrier": carrier,
                    "delivered_at": self.clock.now().isoformat(),
                },
            )
            references.append(reference)
        return references


@pytest.fixture
def flow(
    client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: ManualClock
) -> Iterator[Flow]:
    deploy_processes(services)
    yield Flow(client, auth, services, worker, clock)
