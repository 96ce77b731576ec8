"""A loan overdue again while its cured case sits in review gets a new case: the shipped process
sees the earlier episode through its own `prior_overdue_count` (the segmentation DMN reads it)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.conftest import overdue_event
from tests.scenarios.conftest import Flow
from xinedai_workflow.domain.process_rules import review_sample


def _loan_sampled(prefix: str) -> str:
    """A loan id the review DMN samples, so a cured case waits in review for a retrospective."""
    n = 0
    while review_sample(f"{prefix}-{n}") >= 10:
        n += 1
    return f"{prefix}-{n}"


def test_overdue_again_during_review_opens_a_repeat_episode(flow: Flow) -> None:
    first, loan_id = flow.overdue(loan_id=_loan_sampled(f"AGAIN{uuid.uuid4().hex[:6]}"))
    assert flow.case(first)["variables"]["segment"] == "first_time"
    owed = flow.case(first)["variables"]["ledger"]["balance"]["owed"]
    assert flow.run_worker() == 2  # the first SMS and e-mail
    flow.advance(timedelta(hours=2))
    flow.pay(loan_id, owed)
    cured = flow.case(first)
    assert cured["status"] == "active" and cured["stage"] == "review" and cured["outcome"] == "cured"
    assert [t["name"] for t in cured["open_tasks"]] == ["retrospective"]
    actions = flow.actions(first)

    event = overdue_event(loan_id, days_past_due=3, due_date="2026-02-27")
    response = flow.client.post("/api/v1/events/overdue", headers=flow.system, json=event)
    assert response.status_code == 201, response.text
    second = response.json()["case_id"]
    assert second != first
    repeat = flow.case(second)
    assert repeat["variables"]["prior_overdue_count"] == 1
    assert repeat["variables"]["segment"] == "standard"  # not "first_time": the DMN saw the episode
    assert repeat["stage"] == "informal" and repeat["status"] == "active"

    # the review case goes on as it was: no update filed on it, its retrospective still open
    assert flow.actions(first) == actions
    assert [t["name"] for t in flow.case(first)["open_tasks"]] == ["retrospective"]
    flow.verify(first)
    flow.verify(second)
