"""The instructions preview: a user task's instructions rendered against the variables a process
test had at that task (or unsaved text), render failures as problems on the element."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.studio.conftest import new_draft
from xinedai_workflow.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Rendered in-process here: the studio's logic is under test; rendering in a step process is
    the supervisor's (tests/limits/test_supervised_steps.py)."""
    return settings.model_copy(update={"step_isolation": False})


def test_instructions_preview_renders_against_a_sample_case(
    client: TestClient, auth: TokenFactory, shipped: dict[str, Any]
) -> None:
    alice = auth("compliance", sub="alice")
    draft_id = new_draft(client, alice)["draft_id"]
    url = f"/api/v1/drafts/{draft_id}/preview/instructions"
    shown = client.get(url, headers=auth("auditor"), params={"element_id": "call_borrower"})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["problems"] == [] and body["sample"] == "process_test"
    assert "次电话" in body["text"] and "{{" not in body["text"]

    unsaved = client.get(
        url, headers=alice, params={"element_id": "call_borrower", "text": "应还 {{ amount_owed }} 元"}
    )
    assert unsaved.json()["text"].startswith("应还 ") and unsaved.json()["text"].endswith(" 元")
    broken = client.get(
        url, headers=alice, params={"element_id": "call_borrower", "text": "{{ no_such_thing.x }}"}
    )
    assert broken.status_code == 200 and broken.json()["text"] is None
    assert broken.json()["problems"][0]["element_id"] == "call_borrower"
    assert client.get(url, headers=alice, params={"element_id": "nope"}).status_code == 404
    assert (
        client.get(url, headers=auth("collector"), params={"element_id": "call_borrower"}).status_code == 403
    )
