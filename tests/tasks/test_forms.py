"""Server-side form validation: one problem per field, nested paths, unusable forms."""

from __future__ import annotations

import time

from xinedai_workflow.domain.form_patterns import check_form_patterns
from xinedai_workflow.tasks.forms import render_instructions, schema_errors

SCHEMA = {
    "type": "object",
    "required": ["outcome", "plan"],
    "properties": {
        "outcome": {"type": "string", "enum": ["no_answer", "promise_to_pay"]},
        "plan": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["amount"],
                "properties": {"amount": {"type": "string"}, "due": {"type": "string", "format": "date"}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def test_each_failing_field_is_named_with_its_path() -> None:
    data = {"outcome": "maybe", "plan": [{"due": "soon"}, {"amount": 5, "x": 1}], "extra": True}
    problems = schema_errors(SCHEMA, data)
    assert [p["field"] for p in problems] == [
        "extra",
        "outcome",
        "plan.0.amount",
        "plan.0.due",
        "plan.1.amount",
        "plan.1.x",
    ]
    assert (
        schema_errors(SCHEMA, {"outcome": "no_answer", "plan": [{"amount": "1.00", "due": "2026-03-09"}]})
        == []
    )
    assert [p["field"] for p in schema_errors(SCHEMA, {})] == ["outcome", "plan"]


def test_a_form_that_cannot_be_used_is_a_problem_not_a_crash() -> None:
    remote = {"type": "object", "properties": {"x": {"$ref": "https://forms.example/x.json"}}}
    problems = schema_errors(remote, {"x": 1})
    assert len(problems) == 1 and "cannot be checked" in problems[0]["message"]


def test_instructions_render_in_a_sandbox() -> None:
    assert render_instructions("Call {{ borrower.name }}", {"borrower": {"name": "张三"}}) == "Call 张三"
    assert render_instructions(None, {}) is None
    escaped = render_instructions("{{ ''.__class__.__mro__ }}", {})
    assert escaped is not None and "could not be rendered" in escaped
    assert "could not be rendered" in (render_instructions("{% if %}", {}) or "")


CATASTROPHIC = "^(a+)+$"  # exponential on Python's re for "aaaa…b"
# linear time checks 5,001 characters in milliseconds and backtracking would take ~2**5000 steps:
# a bound this wide still tells them apart on a loaded CI machine
SLOWEST_LINEAR = 5.0


def test_pattern_properties_keys_run_in_linear_time() -> None:
    """patternProperties keys (and the additionalProperties that depend on them) are matched by
    RE2: a key that makes Python's re backtrack for ages is checked at once."""
    schema = {
        "type": "object",
        "patternProperties": {CATASTROPHIC: {"type": "string"}},
        "additionalProperties": False,
    }
    hostile = "a" * 5000 + "b"
    began = time.monotonic()
    problems = schema_errors(schema, {hostile: "x"})
    assert time.monotonic() - began < SLOWEST_LINEAR
    assert len(problems) == 1 and "not matching any of the regexes" in problems[0]["message"]
    assert schema_errors(schema, {"aaa": "x"}) == []
    assert schema_errors(schema, {"aaa": 5})[0]["field"] == "aaa"  # the matched key's subschema applies
    typed_extras = {**schema, "additionalProperties": {"type": "integer"}}
    assert schema_errors(typed_extras, {"zz": "no"})[0]["field"] == "zz"


def test_pattern_properties_with_unevaluated_properties_are_refused() -> None:
    """jsonschema's unevaluatedProperties re-matches patternProperties with Python's re: such a
    form is refused at deploy and never validated with re."""
    schema = {"type": "object", "patternProperties": {CATASTROPHIC: {}}, "unevaluatedProperties": False}
    assert any("unevaluatedProperties" in p for p in check_form_patterns(schema))
    began = time.monotonic()
    problems = schema_errors(schema, {"a" * 5000 + "b": 1})
    assert time.monotonic() - began < SLOWEST_LINEAR
    assert "cannot be checked" in problems[0]["message"]
    assert check_form_patterns({"type": "object", "patternProperties": {"^x": {}}}) == []
    assert check_form_patterns({"patternProperties": {"^(a)\\1$": {}}})  # RE2 cannot run it
