"""The real overdue process (event subprocesses catching payments at every wait state) moves to
an edited version and back, keeping its open call, its timer and its standing subscriptions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory, overdue_event
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings

from .conftest import case_view, history, migrate


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"default_process_key": "xinedai_overdue"})


def test_an_overdue_case_moves_to_an_edited_version_and_back(
    client: TestClient, auth: TokenFactory, services: Services, tmp_path: Path
) -> None:
    edited = tmp_path / "processes"
    shutil.copytree(PROCESSES, edited)
    diagram = edited / "xinedai_overdue.bpmn"
    text = diagram.read_text(encoding="utf-8")
    assert 'name="Call the borrower"' in text
    diagram.write_text(
        text.replace('name="Call the borrower"', 'name="Call the borrower now"', 1), encoding="utf-8"
    )
    assert services.definitions.deploy(read_bundle_dir([PROCESSES]), "test").versions["xinedai_overdue"] == 1
    created = client.post("/api/v1/events/overdue", headers=auth("system"), json=overdue_event())
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    before = case_view(client, auth, case_id)
    assert services.definitions.deploy(read_bundle_dir([edited]), "test").versions["xinedai_overdue"] == 2

    forward = migrate(client, auth, case_id, 2, reason="clearer task title")
    assert forward.status_code == 200, forward.text
    assert not [c for c in forward.json()["changes"] if c["change"] not in ("kept",)]
    after = case_view(client, auth, case_id)
    assert after["definition"]["version"] == 2
    assert after["waiting"] == before["waiting"]
    assert [t["task_id"] for t in after["open_tasks"]] == [t["task_id"] for t in before["open_tasks"]]
    if any(t["name"] == "call_borrower" for t in after["open_tasks"]):
        assert {t["title"] for t in after["open_tasks"] if t["name"] == "call_borrower"} == {
            "Call the borrower now"
        }

    back = migrate(client, auth, case_id, 1, reason="revert")
    assert back.status_code == 200, back.text
    assert case_view(client, auth, case_id)["waiting"] == before["waiting"]
    paid = client.post(
        "/api/v1/events/payment",
        headers=auth("system"),
        json={
            "event_id": "pay-1",
            "loan_id": before["loan_id"],
            "amount": "100.00",
            "paid_at": "2026-03-02T10:00:00+08:00",
            "channel": "bank",
        },
    )
    assert paid.status_code == 202, paid.text
    assert "message_received" in [h["action"] for h in history(client, auth, case_id)]
