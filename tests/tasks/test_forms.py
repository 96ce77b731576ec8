"""Server-side form validation: one problem per field, nested paths, unusable forms."""

from __future__ import annotations

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
