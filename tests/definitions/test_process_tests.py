"""Process tests in the bundle run at every deploy and dry run; a failing one refuses the deploy."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, TokenFactory
from xinedai_workflow.definitions.service import read_bundle_dir

TEST_FILE = "tests/test_xinedai_overdue.json"


def _parts(files: dict[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, content, "application/octet-stream")) for name, content in sorted(files.items())]


def test_the_shipped_tests_pass_at_a_dry_run_with_coverage(client: TestClient, auth: TokenFactory) -> None:
    answer = client.post(
        "/api/v1/definitions",
        headers=auth("compliance"),
        files=_parts(read_bundle_dir([PROCESSES])),
        data={"dry_run": "true"},
    )
    assert answer.status_code == 200, answer.text
    tests = answer.json()["tests"]
    assert tests["failed"] == 0 and tests["passed"] == len(json.loads((PROCESSES / TEST_FILE).read_text()))
    coverage = tests["coverage"]["xinedai_overdue"]
    assert coverage["visited"] > 0 and "call_borrower" not in coverage["not_visited"]
    assert (
        client.get("/api/v1/definitions", headers=auth("compliance")).json() == []
    )  # a dry run stores nothing


def test_an_edit_that_breaks_a_path_is_refused_with_the_path_and_element(
    client: TestClient, auth: TokenFactory
) -> None:
    files = read_bundle_dir([PROCESSES])
    # the dispute review's "close the case" answer no longer closes it as upheld
    diagram = files["xinedai_overdue.bpmn"].decode("utf-8")
    assert diagram.count('case_outcome = "dispute_upheld"') == 1
    files["xinedai_overdue.bpmn"] = diagram.replace(
        'case_outcome = "dispute_upheld"', 'case_outcome = "dispute_closed"'
    ).encode("utf-8")
    answer = client.post("/api/v1/definitions", headers=auth("compliance"), files=_parts(files))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "process_test_failed"
    failed = {d["test"]: d for d in error["details"]}
    assert set(failed) == {"dispute_upheld"}
    assert failed["dispute_upheld"]["file"] == TEST_FILE
    assert "expected outcome 'dispute_upheld', got 'dispute_closed'" in failed["dispute_upheld"]["message"]
    assert client.get("/api/v1/definitions", headers=auth("compliance")).json() == []


def test_a_spiff_arena_unit_test_runs_as_it_is(client: TestClient, auth: TokenFactory) -> None:
    bpmn = (PROCESSES.parent / "tests" / "diagrams" / "t_collect.bpmn").read_bytes()
    files = {
        "t_collect.bpmn": bpmn,
        "t_route.dmn": (PROCESSES.parent / "tests" / "diagrams" / "t_route.dmn").read_bytes(),
        "t_call_form.json": (PROCESSES.parent / "tests" / "diagrams" / "t_call_form.json").read_bytes(),
        "test_t_collect.json": json.dumps(
            {"unknown_task": {"tasks": {"t_collect:nope": {"data": [{}]}}}}
        ).encode(),
    }
    answer = client.post(
        "/api/v1/definitions", headers=auth("compliance"), files=_parts(files), data={"dry_run": "true"}
    )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["error"]["details"][0]
    assert detail["test"] == "unknown_task" and "no data given for task" in detail["message"]
    assert detail["element_id"]
