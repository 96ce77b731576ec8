"""Optional start variables take the defaults the diagram's start event declares; given ones win."""

from __future__ import annotations

import pytest

from tests.engine.shipped import NOW, shipped, variables
from xinedai_workflow.engine import EngineInstance
from xinedai_workflow.engine.start_defaults import literal_problem, start_defaults

OPTIONAL = {
    "contract_no": None,
    "contract_date": None,
    "prior_overdue_count": 0,
    "declared_situation": "none",
    "contact_opt_outs": [],
}


def test_the_shipped_start_event_declares_the_optional_facts_of_an_overdue_event() -> None:
    definition, _ctx = shipped()
    assert start_defaults(definition.spec) == OPTIONAL


def test_a_case_without_the_optional_facts_starts_with_the_defaults() -> None:
    definition, ctx = shipped()
    case = EngineInstance.start(definition, variables(), NOW, ctx).variables()
    assert {name: case[name] for name in OPTIONAL} == OPTIONAL


def test_given_facts_win_over_the_defaults_and_are_read_as_their_types() -> None:
    definition, ctx = shipped()
    given = {"contract_no": "C-1", "prior_overdue_count": "2", "contact_opt_outs": ("sms",)}
    case = EngineInstance.start(definition, {**variables(), **given}, NOW, ctx).variables()
    assert (case["contract_no"], case["prior_overdue_count"], case["contact_opt_outs"]) == ("C-1", 2, ["sms"])
    assert case["declared_situation"] == "none"


@pytest.mark.parametrize(
    ("name", "literal", "ok"),
    [
        ("contract_no", "None", True),
        ("x", "'none'", True),
        ("x", "[]", True),
        ("x", "today()", False),
        ("x", "none", False),
        ("not a name", "0", False),
        ("x", "b'bytes'", False),  # a literal the case state cannot store
        ("x", "{1, 2}", False),
        ("x", "1j", False),
        ("x", "[" * 50_000 + "]" * 50_000, False),  # too long for a default, parsed or not
        ("x", "9" * 5000, False),
    ],
)
def test_a_default_must_be_a_literal_for_a_variable_name(name: str, literal: str, ok: bool) -> None:
    assert (literal_problem(name, literal) is None) is ok
