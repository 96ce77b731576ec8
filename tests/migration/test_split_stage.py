"""A case started before informal contact was split into sub-stages (the frozen earlier bundle)
and waiting inside it cannot be carried to the split version: the move is refused, naming where
each element went, and the case stays on its version, unchanged, and goes on there."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory, overdue_event
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.settings import Settings

from .conftest import case_view, migrate

BEFORE_THE_SPLIT = Path(__file__).resolve().parents[1] / "engine" / "stored_states" / "bundle"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"default_process_key": "xinedai_overdue"})


def test_a_case_inside_the_unsplit_informal_stage_is_refused_and_left_as_it_was(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    deployed = services.definitions.deploy(read_bundle_dir([BEFORE_THE_SPLIT]), "test")
    assert deployed.versions["xinedai_overdue"] == 1
    created = client.post("/api/v1/events/overdue", headers=auth("system"), json=overdue_event())
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    before = case_view(client, auth, case_id)
    assert before["stage"] == "informal" and before["open_tasks"]
    assert services.definitions.deploy(read_bundle_dir([PROCESSES]), "test").versions["xinedai_overdue"] == 2

    answer = migrate(client, auth, case_id, 2, reason="onto the split informal stage")
    assert answer.status_code == 409, answer.text
    details = {d["element_id"]: d["message"] for d in answer.json()["error"]["details"]}
    waiting = before["open_tasks"][0]["name"]
    assert "the case waits at" in details[waiting]
    assert "'informal_contact' instead of 'informal'" in details[waiting]
    after = case_view(client, auth, case_id)
    assert after["definition"]["version"] == 1
    assert (after["open_tasks"], after["waiting"], after["variables"]) == (
        before["open_tasks"],
        before["waiting"],
        before["variables"],
    )
