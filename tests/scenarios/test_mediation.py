"""Negotiation and mediation: hardship → mediation → plan completed, and a missed instalment → legal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.scenarios.conftest import SHANGHAI, Flow

HARDSHIP = {
    "outcome": "hardship",
    "income": "4500.00",
    "family_burden": "两个孩子上学，父亲住院",
    "other_debts": "12000.00",
}


def _agree_plan(flow: Flow, months: int = 3) -> tuple[str, str, dict[str, Any]]:
    case_id, loan_id = flow.overdue()
    flow.run_worker()
    flow.work(case_id, "call_borrower", HARDSHIP)
    case = flow.case(case_id)
    assert case["stage"] == "mediation" and case["variables"]["hardship_declared"] is True
    assert flow.open_task(case_id, "agree_plan")["lane"] == "mediation"
    first_due = (flow.clock.now() + timedelta(days=10)).date().isoformat()
    flow.work(
        case_id,
        "agree_plan",
        {
            "plan_kind": "term_extension",
            "months": months,
            "first_due_date": first_due,
            "income": "4500.00",
            "mediation_body": "北京市金融纠纷调解中心",
        },
    )
    case = flow.case(case_id)
    assert case["variables"]["plan_kept"] is True
    plan = case["variables"]["plan"]
    assert plan["term_months"] == months
    assert sum(float(i["amount"]) for i in plan["instalments"]) == float(plan["total"])
    return case_id, loan_id, plan


def test_hardship_mediation_plan_completed(flow: Flow) -> None:
    case_id, loan_id, plan = _agree_plan(flow)
    confirmation = [r for r in flow.outbox(case_id) if r.payload.get("template") == "email_plan_confirmation"]
    assert len(confirmation) == 1 and confirmation[0].payload["purpose"] == "service"
    assert plan["instalments"][0]["amount"] in confirmation[0].payload["text"].replace(",", "")
    for instalment in plan["instalments"]:
        flow.advance_to_local(_days_until(flow, instalment["due_date"]), 11)
        flow.pay(loan_id, instalment["amount"])
        flow.advance(timedelta(days=1))
        case = flow.case(case_id)
        if case["status"] == "active" and case["stage"] == "mediation":
            assert case["variables"]["plan_kept"] is True and not case["open_tasks"]
    case = flow.case(case_id)
    assert case["outcome"] == "settled" and case["stage"] == "review"
    reports = [r for r in flow.outbox(case_id) if r.operation == "report_to_mediator"]
    assert (
        reports
        and reports[0].payload["to"] == "北京市金融纠纷调解中心"
        and "还款计划履行情况" in reports[0].payload["text"]
    )
    # while the plan was kept no collection message went out: only service messages after the plan
    after_plan = flow.operations(case_id)[2:]
    purposes = {r.payload["purpose"] for r in flow.outbox(case_id)[2:]}
    assert "send_sms" not in after_plan and purposes == {"service"}
    flow.work(
        case_id,
        "retrospective",
        {"recovery_result": "recovered_in_full", "customer_willing_to_continue": "yes"},
    )
    assert flow.case(case_id)["status"] == "completed"
    assert flow.stages(case_id) == ["informal", "mediation", "review", "closed"]


def test_missed_instalment_goes_back_to_legal(flow: Flow) -> None:
    case_id, _, plan = _agree_plan(flow)
    due = plan["instalments"][0]["due_date"]
    flow.advance_to_local(_days_until(flow, due) + 4, 9)  # due date + 3 grace days passed, unpaid
    case = flow.case(case_id)
    assert case["variables"]["plan_kept"] is False
    assert [t["name"] for t in case["open_tasks"]] == ["plan_followup"]
    flow.work(case_id, "plan_followup", {"decision": "back_to_legal", "reason": "失联"})
    case = flow.case(case_id)
    assert case["stage"] == "formal"
    assert flow.operations(case_id)[-1] == "send_registered_mail"  # no letter was sent before mediation
    assert flow.stages(case_id) == ["informal", "mediation", "formal"]
    assert case["variables"]["ledger"]["plan"] is None


def _days_until(flow: Flow, day: str) -> int:
    return (date.fromisoformat(day) - flow.clock.now().astimezone(SHANGHAI).date()).days
