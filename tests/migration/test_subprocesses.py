"""Migrating a case that waits inside a running subprocess."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TokenFactory

from .conftest import Deploy, StartCase, case_view, claim, complete, migrate


def test_a_running_subprocess_moves_when_compatible_and_is_refused_otherwise(
    client: TestClient, auth: TokenFactory, deploy: Deploy, start: StartCase
) -> None:
    deploy("m_sub", "m_sub_v1.bpmn")
    case_id = start("m_sub")
    mapped_case = start("m_sub")
    task_id = case_view(client, auth, case_id)["open_tasks"][0]["task_id"]
    claim(client, auth, task_id)
    assert deploy("m_sub", "m_sub_v2.bpmn") == 2  # the call inside became a visit
    assert deploy("m_sub", "m_sub_v3.bpmn") == 3  # a note after the call, inside
    assert deploy("m_sub", "m_sub_v4.bpmn") == 4  # the subprocess became a user task

    inner = migrate(client, auth, case_id, 2)
    assert inner.status_code == 409, inner.text
    assert [d["element_id"] for d in inner.json()["error"]["details"]] == ["s_call"]
    kind = migrate(client, auth, case_id, 4)
    assert kind.status_code == 409, kind.text
    assert "sub" in [d["element_id"] for d in kind.json()["error"]["details"]]
    assert case_view(client, auth, case_id)["definition"]["version"] == 1

    moved = migrate(client, auth, case_id, 3)
    assert moved.status_code == 200, moved.text
    changes = {c["element_id"]: c["change"] for c in moved.json()["changes"]}
    assert changes["s_note"] == "added" and changes["s_call"] == "kept" and changes["sub"] == "kept"
    view = case_view(client, auth, case_id)
    assert [(t["task_id"], t["assignee"]) for t in view["open_tasks"]] == [(task_id, "alice")]
    done = complete(client, auth, task_id)
    assert done["status"] == "completed" and done["variables"]["noted"] is True

    mapped = migrate(client, auth, mapped_case, 2, mapping={"s_call": "s_visit"})
    assert mapped.status_code == 200, mapped.text
    assert case_view(client, auth, mapped_case)["open_tasks"][0]["name"] == "s_visit"
