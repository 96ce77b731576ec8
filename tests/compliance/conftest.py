"""Fixtures of the compliance tests: a bundle with the real contact policy and a template, and
diagrams that ask for too many contacts (hourly SMS, half-hourly automated calls, SMS bursts,
repeated calls)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import PROCESSES, TokenFactory

from xinedai_workflow.bootstrap import Services
from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import BlockedContact, HistoryEntry, OutboxMessage, RecordedContact, Timer
from xinedai_workflow.worker.runner import Worker

HERE = Path(__file__).resolve().parent / "diagrams"
POLICY = (PROCESSES / "contact_policy.yaml").read_bytes()
SMS_TEMPLATE = (PROCESSES / "templates" / "sms_reminder.txt.j2").read_bytes()
VOICE_TEMPLATE = (PROCESSES / "templates" / "voice_reminder.txt.j2").read_bytes()
DIAGRAMS = ("c_hourly_sms.bpmn", "c_robocalls.bpmn", "c_burst.bpmn", "c_calls.bpmn", "c_call_form.json")
COLLECTOR = {"sub": "alice", "groups": ["collectors"]}

Files = list[tuple[str, tuple[str, bytes, str]]]


def part(name: str, content: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("files", (name, content, "application/octet-stream"))


def bundle(policy: bytes | None = POLICY, extra: dict[str, bytes] | None = None) -> Files:
    """The compliance test diagrams, the policy file and the SMS template; `extra` adds or replaces."""
    files = {name: (HERE / name).read_bytes() for name in DIAGRAMS}
    if policy is not None:
        files["contact_policy.yaml"] = policy
    files["templates/sms_reminder.txt.j2"] = SMS_TEMPLATE
    files["templates/voice_reminder.txt.j2"] = VOICE_TEMPLATE
    files.update(extra or {})
    return [part(name, content) for name, content in files.items()]


def policy_with(*pairs: tuple[str, str]) -> bytes:
    """The repository's policy file with some text replaced (old → new)."""
    text = POLICY.decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


@pytest.fixture
def compliance_deployed(client: TestClient, auth: TokenFactory) -> dict[str, Any]:
    response = client.post("/api/v1/definitions", headers=auth("compliance"), files=bundle())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


StartCase = Callable[..., str]


@pytest.fixture
def start(client: TestClient, auth: TokenFactory) -> StartCase:
    """`start("c_calls", borrower_id="B1", timezone="Asia/Shanghai", **variables)` → case id."""

    def run(
        key: str, borrower_id: str | None = None, timezone: str = "Asia/Shanghai", **variables: Any
    ) -> str:
        loan_id = variables.pop("loan_id", f"L-{uuid.uuid4().hex[:10]}")
        borrower = {
            "id": borrower_id or f"B-{loan_id}",
            "name": "王小明",
            "phone": "13812345678",
            "timezone": timezone,
        }
        body = {
            "process_key": key,
            "loan_id": loan_id,
            "request_id": str(uuid.uuid4()),
            "variables": {"borrower": borrower, **variables},
        }
        response = client.post("/api/v1/cases", headers=auth("system"), json=body)
        assert response.status_code == 201, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    return run


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def contacts(services: Services, borrower_id: str | None = None) -> list[RecordedContact]:
    with services.db.read() as session:
        query = select(RecordedContact).order_by(RecordedContact.at, RecordedContact.id)
        if borrower_id is not None:
            query = query.where(RecordedContact.borrower_id == borrower_id)
        return list(session.scalars(query))


def blocks(services: Services, borrower_id: str | None = None) -> list[BlockedContact]:
    with services.db.read() as session:
        query = select(BlockedContact).order_by(BlockedContact.at, BlockedContact.id)
        if borrower_id is not None:
            query = query.where(BlockedContact.borrower_id == borrower_id)
        return list(session.scalars(query))


def outbox(services: Services, case_id: str) -> list[OutboxMessage]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.case_id == uuid.UUID(case_id))
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        )


def history(services: Services, case_id: str, action: str | None = None) -> list[HistoryEntry]:
    with services.db.read() as session:
        query = (
            select(HistoryEntry).where(HistoryEntry.case_id == uuid.UUID(case_id)).order_by(HistoryEntry.seq)
        )
        if action is not None:
            query = query.where(HistoryEntry.action == action)
        return list(session.scalars(query))


def run_until(services: Services, worker: Worker, clock: ManualClock, end: datetime) -> int:
    """Jump from one due timer or outbox message to the next until `end`; return the rounds."""
    rounds = 0
    while clock.now() < end:
        worker.run_once()
        rounds += 1
        with services.db.read() as session:
            timer = session.scalar(select(func.min(Timer.due_at)))
            message = session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
            )
        # a timer fires once the clock has passed its due time
        due = [t for t in (timer and timer + timedelta(seconds=1), message) if t is not None]
        clock.set(min([end, *due]) if due else end)
    worker.run_once()
    return rounds


def open_call(client: TestClient, headers: dict[str, str], case_id: str) -> str:
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()
    [task] = [t for t in case["open_tasks"] if t["name"] == "call"]
    task_id: str = task["task_id"]
    if task.get("assignee") is None:
        assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code == 200
    return task_id


def record_call(client: TestClient, headers: dict[str, str], case_id: str, **data: Any) -> Any:
    task_id = open_call(client, headers, case_id)
    return client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": data})
