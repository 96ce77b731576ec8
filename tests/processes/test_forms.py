"""Every task form accepts the smallest valid answer (required fields only, first enum value) and
refuses an incomplete conditional answer; every user task has a form and instructions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROCESSES
from tests.scenarios.conftest import Flow
from xinedai_workflow.tasks.forms import schema_errors

FORMS = sorted((PROCESSES / "forms").glob("*.json"))
CANDIDATES = ("100.00", "1", "2026-12-15", "A1", "13800000000", "x")


def smallest(schema: dict[str, Any]) -> Any:
    """Required fields only, enum → first value, strings → the first candidate the pattern accepts."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: smallest(props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if "pattern" in schema:
        return next(c for c in CANDIDATES if re.search(schema["pattern"], c))
    if schema.get("format") == "date":
        return "2026-12-15"
    return "x" * max(1, schema.get("minLength", 1))


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_the_smallest_answer_is_valid(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(schema, smallest(schema)) == []


def test_call_outcome_values_and_conditional_fields() -> None:
    schema = json.loads((PROCESSES / "forms" / "call_outcome.json").read_text(encoding="utf-8"))
    assert schema["properties"]["outcome"]["enum"] == [
        "no_answer",
        "wrong_party",
        "promise_to_pay",
        "hardship",
        "dispute",
        "refused",
        "claims_paid",
    ]
    missing = {e["field"] for e in schema_errors(schema, {"outcome": "promise_to_pay"})}
    assert missing == {"promised_amount", "promised_date"}
    missing = {e["field"] for e in schema_errors(schema, {"outcome": "hardship"})}
    assert missing == {"income", "family_burden", "other_debts"}
    assert {e["field"] for e in schema_errors(schema, {"outcome": "claims_paid"})} == {"dispute_reason"}
    bad = schema_errors(
        schema, {"outcome": "promise_to_pay", "promised_amount": "12.345", "promised_date": "soon"}
    )
    assert {e["field"] for e in bad} == {"promised_amount", "promised_date"}


def test_every_user_task_has_a_form_instructions_and_a_lane() -> None:
    text = (PROCESSES / "xinedai_overdue.bpmn").read_text(encoding="utf-8")
    tasks = re.findall(r"<bpmn:userTask id=\"(\w+)\".*?</bpmn:userTask>", text, re.DOTALL)
    assert len(tasks) == 13
    for block in re.findall(r"<bpmn:userTask .*?</bpmn:userTask>", text, re.DOTALL):
        assert "formJsonSchemaFilename" in block and "instructionsForEndUser" in block
    lanes = "".join(re.findall(r"<bpmn:lane .*?</bpmn:lane>", text, re.DOTALL))
    for task in tasks:
        assert f"<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef>" in lanes, task


def test_a_collector_walks_the_first_tasks_with_the_smallest_answers(flow: Flow) -> None:
    """What the contract check's walk does, in the borrower's calling hours (09:00 Shanghai)."""
    case_id, _ = flow.overdue(days_past_due=12)
    walked = []
    for _ in range(4):
        case = flow.case(case_id)
        if case["status"] != "active" or not case["open_tasks"]:
            break
        name = case["open_tasks"][0]["name"]
        detail = flow.detail(case_id, name)
        assert detail["instructions"] and detail["form"]
        flow.work(case_id, name, smallest(detail["form"]))
        walked.append(name)
    assert walked == ["call_borrower"]
    case = flow.case(case_id)
    assert case["stage"] == "informal" and "Wait before the next call" in {w["name"] for w in case["waiting"]}
