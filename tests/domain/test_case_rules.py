"""The status rules on their own: each named rule, and `decide` over the (from, to) pairs."""

from __future__ import annotations

import pytest

from xinedai_workflow.domain.case_rules import (
    ENDED,
    RULES,
    STATUSES,
    CaseBefore,
    StepReport,
    decide,
)

RUNNING = CaseBefore(status="active", stage="informal", outcome=None)


def test_every_rule_has_a_unique_name_and_a_docstring() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(rule.apply.__doc__ for rule in RULES)


def test_a_step_with_no_stage_mark_keeps_the_last_stage() -> None:
    decision = decide(RUNNING, StepReport(status="active", stage=None))
    assert (decision.status, decision.stage, decision.events) == ("active", "informal", [])


def test_a_new_stage_mark_is_entered_and_recorded() -> None:
    decision = decide(RUNNING, StepReport(status="active", stage="formal"))
    assert decision.stage == "formal"
    assert [(e.action, e.data) for e in decision.events] == [
        ("stage_entered", {"from": "informal", "to": "formal"})
    ]


def test_completion_closes_the_case_with_the_last_element_as_outcome() -> None:
    decision = decide(RUNNING, StepReport(status="completed", stage="review", last_element_id="End_cured"))
    assert (decision.status, decision.stage, decision.outcome, decision.ended) == (
        "completed",
        "closed",
        "End_cured",
        True,
    )
    assert [e.action for e in decision.events] == ["stage_entered", "case_completed"]
    assert decision.events[1].data == {"from": "active", "to": "completed", "outcome": "End_cured"}


def test_the_diagrams_case_outcome_wins_over_the_last_element() -> None:
    step = StepReport(status="completed", stage=None, explicit_outcome="cured", last_element_id="End_1")
    assert decide(RUNNING, step).outcome == "cured"


def test_completion_without_any_element_id_is_completed() -> None:
    assert decide(RUNNING, StepReport(status="completed", stage=None)).outcome == "completed"


def test_a_cancel_overrides_the_engine_status_and_its_outcome_is_cancelled() -> None:
    decision = decide(RUNNING, StepReport(status="active", stage="informal"), forced_status="cancelled")
    assert (decision.status, decision.outcome, decision.ended, decision.stage) == (
        "cancelled",
        "cancelled",
        True,
        "closed",
    )


def test_a_running_case_follows_its_case_outcome_variable_truncated_to_the_column() -> None:
    step = StepReport(status="active", stage=None, explicit_outcome="x" * 100)
    decision = decide(RUNNING, step)
    assert decision.outcome == "x" * 64
    assert not decision.ended


def test_a_failure_records_the_error_and_every_new_failure_is_announced() -> None:
    failed = StepReport(status="error", stage=None, error_message="boom", error_element_id="Task_1")
    first = decide(RUNNING, failed)
    assert (first.status, first.error_message, first.error_element_id) == ("error", "boom", "Task_1")
    assert [(e.action, e.element_id) for e in first.events] == [("case_error", "Task_1")]
    again = decide(CaseBefore("error", "informal", None, "boom", "Task_1"), failed)
    assert [e.action for e in again.events] == ["case_error"]  # the same status, a new failure


def test_recovery_forgets_the_error() -> None:
    before = CaseBefore("error", "informal", None, "boom", "Task_1")
    decision = decide(before, StepReport(status="active", stage=None))
    assert (decision.error_message, decision.error_element_id) == (None, None)
    assert [e.data["to"] for e in decision.events] == ["active"]


def test_an_error_status_without_a_new_message_keeps_the_old_one() -> None:
    before = CaseBefore("error", "informal", None, "boom", "Task_1")
    decision = decide(before, StepReport(status="error", stage=None))
    assert (decision.error_message, decision.error_element_id, decision.events) == ("boom", "Task_1", [])


@pytest.mark.parametrize("before", STATUSES)
@pytest.mark.parametrize("after", ("active", "completed", "error"))
def test_only_ended_cases_are_closed_and_release_their_slot(before: str, after: str) -> None:
    decision = decide(CaseBefore(before, "informal", None), StepReport(status=after, stage=None))
    assert decision.ended is (after in ENDED)
    assert (decision.stage == "closed") is (after in ENDED)
    assert decision.collecting is (after not in ENDED)


@pytest.mark.parametrize("status", ("active", "error"))
@pytest.mark.parametrize(
    ("before", "mark", "collecting"),
    [
        ("informal", None, True),
        (None, None, True),  # not yet in any stage: a new case collects
        ("litigation", "mediation", True),
        ("mediation", "review", False),  # collection over: the case sits in review
        ("review", None, False),  # a handler of the review case ran (no mark active): still over
    ],
)
def test_a_case_past_collection_gives_up_the_loans_slot_but_keeps_running(
    status: str, before: str | None, mark: str | None, collecting: bool
) -> None:
    decision = decide(CaseBefore("active", before, None), StepReport(status=status, stage=mark))
    assert decision.collecting is collecting
    assert decision.ended is False and decision.status == status
