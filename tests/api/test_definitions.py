"""Deploying bundles: versions, idempotent redeploy, pinned cases, and every kind of bad bundle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import DIAGRAMS, T_COLLECT, TokenFactory, diagram_files, start_case
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import ProcessVersion, StoredFile
from xinedai_workflow.worker.runner import Worker


def _deploy(client: TestClient, auth: TokenFactory, files: list[tuple[str, bytes]], **data: Any) -> Any:
    parts = [("files", (name, content, "application/octet-stream")) for name, content in files]
    return client.post("/api/v1/definitions", headers=auth("compliance"), files=parts, data=data or None)


def _bundle(**replace: str) -> list[tuple[str, bytes]]:
    files = [(name, (DIAGRAMS / name).read_bytes()) for name in T_COLLECT]
    out = []
    for name, content in files:
        text = content.decode()
        for old, new in replace.items():
            text = text.replace(old, new)
        out.append((name, text.encode()))
    return out


def _stored(services: Services) -> tuple[int, int]:
    with services.db.read() as session:
        versions = session.scalar(select(func.count()).select_from(ProcessVersion)) or 0
        files = session.scalar(select(func.count()).select_from(StoredFile)) or 0
    return versions, files


def test_same_bundle_twice_is_one_version_and_a_change_is_version_two(
    client: TestClient, auth: TokenFactory, services: Services, worker: Worker, clock: Any
) -> None:
    first = _deploy(client, auth, _bundle())
    assert first.status_code == 201, first.text
    assert first.json()["key"] == "t_collect" and first.json()["version"] == 1
    again = _deploy(client, auth, _bundle())
    assert again.status_code == 200 and again.json()["version"] == 1

    old_case = start_case(client, auth, outcome_hint="x")
    changed = _deploy(client, auth, _bundle(**{'"P3D"': '"P5D"'}))
    assert changed.status_code == 201 and changed.json()["version"] == 2
    new_case = start_case(client, auth)
    assert client.get(f"/api/v1/cases/{old_case}", headers=auth("admin")).json()["definition"]["version"] == 1
    assert client.get(f"/api/v1/cases/{new_case}", headers=auth("admin")).json()["definition"]["version"] == 2

    # both complete their call; after 3 days only the version-1 case has moved on
    for case_id in (old_case, new_case):
        task = client.get(f"/api/v1/cases/{case_id}", headers=auth("admin")).json()["open_tasks"][0]
        alice = auth("collector", groups=["collectors"], sub="alice")
        assert client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=alice).status_code == 200
        done = client.post(
            f"/api/v1/tasks/{task['task_id']}/complete",
            headers=alice,
            json={"data": {"outcome": "no_answer"}},
        )
        assert done.status_code == 200, done.text

    clock.advance(timedelta(days=3, minutes=1))
    worker.run_once()
    assert client.get(f"/api/v1/cases/{old_case}", headers=auth("admin")).json()["status"] == "completed"
    assert client.get(f"/api/v1/cases/{new_case}", headers=auth("admin")).json()["status"] == "active"
    clock.advance(timedelta(days=2))
    worker.run_once()
    assert client.get(f"/api/v1/cases/{new_case}", headers=auth("admin")).json()["status"] == "completed"

    listed = client.get("/api/v1/definitions", headers=auth("compliance")).json()
    assert [(d["key"], d["version"]) for d in listed] == [("t_collect", 2)]
    all_versions = client.get("/api/v1/definitions?all_versions=true", headers=auth("auditor")).json()
    assert [(d["key"], d["version"]) for d in all_versions] == [("t_collect", 1), ("t_collect", 2)]
    original = client.get(
        "/api/v1/definitions/t_collect/versions/1/files/t_collect.bpmn", headers=auth("compliance")
    )
    assert original.content == (DIAGRAMS / "t_collect.bpmn").read_bytes()


BAD_BUNDLES: dict[str, tuple[list[tuple[str, bytes]], dict[str, Any]]] = {
    "malformed": (
        _bundle(**{"</bpmn:process>": "</bpmn:proces>"}),
        {"file": "t_collect.bpmn", "message_has": "malformed"},
    ),
    "xsd_invalid": (
        _bundle(
            **{'<bpmn:endEvent id="end_done" name="Done">': '<bpmn:endEvent id="end_done" colour="red">'}
        ),
        {"file": "t_collect.bpmn", "line": True},
    ),
    "external_entity": (
        [(n, c) for n, c in _bundle() if n != "t_collect.bpmn"]
        + [
            (
                "t_collect.bpmn",
                b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
                + (DIAGRAMS / "t_collect.bpmn").read_bytes().split(b"\n", 1)[1],
            )
        ],
        {"file": "t_collect.bpmn", "line": 2, "message_has": "DTD"},
    ),
    "missing_dmn": (
        [(n, c) for n, c in _bundle() if n != "t_route.dmn"],
        {"element_id": "decide", "message_has": "t_route"},
    ),
    "missing_form": (
        [(n, c) for n, c in _bundle() if n != "t_call_form.json"],
        {"file": "t_collect.bpmn", "element_id": "call", "line": True, "message_has": "t_call_form.json"},
    ),
    "script_imports_os": (
        _bundle(**{"reviewed_amount = money(amount) * 2": "import os\nos.system('id')"}),
        {"file": "t_collect.bpmn", "element_id": "mark", "line": True, "message_has": "import"},
    ),
    "unknown_function": (
        _bundle(**{"reviewed_amount = money(amount) * 2": "x = shell('id')"}),
        {"element_id": "mark", "message_has": "shell"},
    ),
    "bad_timer": (
        _bundle(**{'"P3D"': '"three days"'}),
        {"element_id": "wait", "message_has": "ISO-8601"},
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bad_bundles_are_refused_with_file_line_and_element(
    case: str, client: TestClient, auth: TokenFactory, services: Services
) -> None:
    files, expected = BAD_BUNDLES[case]
    before = _stored(services)
    response = _deploy(client, auth, files)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    details = error["details"]
    assert details and all(set(d) == {"file", "line", "element_id", "message"} for d in details)

    def matches(d: dict[str, Any]) -> bool:
        if "file" in expected and d["file"] != expected["file"]:
            return False
        if "element_id" in expected and d["element_id"] != expected["element_id"]:
            return False
        if expected.get("line") is True and not isinstance(d["line"], int):
            return False
        if type(expected.get("line")) is int and d["line"] != expected["line"]:
            return False
        return expected.get("message_has", "") in d["message"]

    assert any(matches(d) for d in details), details
    assert _stored(services) == before, "a refused bundle stored something"


def test_every_problem_is_reported_at_once(client: TestClient, auth: TokenFactory) -> None:
    files = _bundle(**{"reviewed_amount = money(amount) * 2": "import os", '"P3D"': '"soon"'})
    files = [(n, c) for n, c in files if n != "t_call_form.json"]
    details = _deploy(client, auth, files).json()["error"]["details"]
    assert {d["element_id"] for d in details} >= {"mark", "wait", "call"}


def test_dry_run_validates_without_storing(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    response = _deploy(client, auth, _bundle(), dry_run="true")
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert _stored(services) == (0, 0)


def test_billion_laughs_and_huge_files_are_refused_quickly(client: TestClient, auth: TokenFactory) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    assert _deploy(client, auth, [("laughs.bpmn", laughs)]).status_code == 422
    huge = b"<a>" + b"x" * (6 * 1024 * 1024) + b"</a>"
    assert _deploy(client, auth, [("huge.bpmn", huge)]).status_code == 422


def test_only_compliance_and_admin_deploy(client: TestClient, auth: TokenFactory) -> None:
    for role in ("collector", "system", "auditor", "supervisor"):
        response = client.post(
            "/api/v1/definitions", headers=auth(role, groups=["collectors"]), files=diagram_files(*T_COLLECT)
        )
        assert response.status_code == 403, role
    assert (
        client.post("/api/v1/definitions", headers=auth("admin"), files=diagram_files(*T_COLLECT)).status_code
        == 201
    )
