"""Informal stage paths: cured after the first SMS, promise kept, promise broken → formal, dispute."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.scenarios.conftest import Flow
from xinedai_workflow.domain.process_rules import review_sample


def _loan_not_sampled(prefix: str) -> str:
    """A loan id the review DMN does not sample, so the case closes without a retrospective."""
    n = 0
    while review_sample(f"{prefix}-{n}") < 10:
        n += 1
    return f"{prefix}-{n}"


def test_cured_after_the_first_sms(flow: Flow, settings: object) -> None:
    case_id, loan_id = flow.overdue(loan_id=_loan_not_sampled("CURED"))
    case = flow.case(case_id)
    assert case["status"] == "active" and case["stage"] == "informal"
    assert [t["name"] for t in case["open_tasks"]] == ["call_borrower"]
    variables = case["variables"]
    assert variables["segment"] == "first_time" and variables["strategy"] == "gentle_reminder"
    assert variables["journey"] == ["assessment", "informal"]
    owed = variables["ledger"]["balance"]["owed"]

    rows = flow.outbox(case_id)
    assert [r.operation for r in rows] == ["send_sms", "send_email"]
    sms = rows[0].payload
    assert sms["template"] == "sms_reminder" and sms["purpose"] == "collection"
    assert sms["to"] == "13812345678" and f"{float(owed):,.2f}" in sms["text"] and "明德银行" in sms["text"]
    assert sms["context"]["amount_owed"] == owed

    assert flow.run_worker() == 2
    rows = flow.outbox(case_id)
    assert {r.status for r in rows} == {"sent"}
    sink = Path(flow.services.settings.outbox_sink_dir)
    assert len(list((sink / "sms").glob("*.json"))) == 1

    flow.advance(timedelta(hours=2))
    flow.pay(loan_id, owed)
    case = flow.case(case_id)
    assert case["status"] == "completed" and case["stage"] == "closed" and case["outcome"] == "cured"
    assert case["open_tasks"] == [] and case["variables"]["ledger"]["paid_in_full"] is True
    assert flow.stages(case_id) == ["informal", "closed"]
    actions = flow.actions(case_id)
    for expected in ("case_started", "outbox_queued", "contact_sent", "message_received", "task_cancelled"):
        assert expected in actions, expected
    assert actions[-1] == "case_completed"
    flow.verify(case_id)


def test_promise_kept_then_paid_in_full(flow: Flow) -> None:
    case_id, loan_id = flow.overdue(loan_id=_loan_not_sampled("PROMISE"))
    flow.run_worker()
    promised_on = (flow.clock.now() + timedelta(days=3)).date().isoformat()
    flow.work(
        case_id,
        "call_borrower",
        {"outcome": "promise_to_pay", "promised_amount": "1000.00", "promised_date": promised_on},
    )
    case = flow.case(case_id)
    waiting = {w["name"] for w in case["waiting"]}
    assert "Paid or due?" in waiting  # the promise watch: payment signal or promised date + grace

    flow.advance(timedelta(days=1))
    flow.pay(loan_id, "1000.00")
    case = flow.case(case_id)
    assert case["status"] == "active" and case["stage"] == "informal"
    assert case["variables"]["promise_state"] == "kept"
    assert "Wait before the next call" in {w["name"] for w in case["waiting"]}
    # the next call comes after the DMN's retry wait, with the rest still owed
    flow.advance_to_local(4, 9)
    assert [t["name"] for t in flow.case(case_id)["open_tasks"]] == ["call_borrower"]
    owed = flow.case(case_id)["variables"]["amount_owed"]  # as of today, shown with the call script
    flow.pay(loan_id, owed)
    case = flow.case(case_id)
    assert case["status"] == "completed" and case["outcome"] == "cured"
    assert flow.operations(case_id).count("send_sms") == 2
    assert flow.stages(case_id) == ["informal", "closed"]
    flow.verify(case_id)


def test_promise_broken_goes_to_the_formal_stage(flow: Flow) -> None:
    case_id, loan_id = flow.overdue()
    flow.run_worker()
    promised_on = (flow.clock.now() + timedelta(days=2)).date().isoformat()
    flow.work(
        case_id,
        "call_borrower",
        {"outcome": "promise_to_pay", "promised_amount": "2400.00", "promised_date": promised_on},
    )
    flow.advance(timedelta(days=1))
    flow.pay(loan_id, "300.00")  # partial: the promise is not kept yet
    assert flow.case(case_id)["variables"]["promise_state"] == "pending"
    flow.advance_to_local(5, 9)  # promised date + 2 grace days have passed
    case = flow.case(case_id)
    assert case["stage"] == "formal" and case["variables"]["escalation_reason"] == "promise_broken"
    assert flow.stages(case_id) == ["informal", "formal"]
    letters = [r for r in flow.outbox(case_id) if r.operation == "send_registered_mail"]
    assert len(letters) == 1 and letters[0].status == "sent"
    payload = letters[0].payload
    assert payload["template"] == "demand_letter" and payload["to"]["address"] == "北京市朝阳区建国路1号"
    assert "催款通知书" in payload["text"] and "300.00" in payload["text"]
    tracking = letters[0].result["reference"]
    assert re.fullmatch(r"EM\d{9}CN", tracking) and Path(letters[0].result["pdf"]).read_bytes().startswith(
        b"%PDF"
    )
    assert "contact_sent" in flow.actions(case_id)


def test_dispute_pauses_contact_until_the_supervisor_decides(flow: Flow) -> None:
    case_id, _ = flow.overdue()
    flow.run_worker()
    flow.work(case_id, "call_borrower", {"outcome": "dispute", "dispute_reason": "已于2月24日通过柜台还款"})
    case = flow.case(case_id)
    assert case["variables"]["dispute_open"] is True
    assert [t["name"] for t in case["open_tasks"]] == ["dispute_review"]
    assert flow.open_task(case_id, "dispute_review")["lane"] == "supervisors"
    detail = flow.detail(case_id, "dispute_review")
    assert "已于2月24日通过柜台还款" in detail["instructions"]

    flow.advance(timedelta(days=5))  # nothing is sent while the dispute is open
    assert flow.operations(case_id) == ["send_sms", "send_email"]
    flow.work(case_id, "dispute_review", {"resolution": "resume", "findings": "流水核对无此笔还款"})
    assert flow.case(case_id)["variables"]["dispute_open"] is False
    flow.advance_to_local(4, 9)
    assert flow.operations(case_id)[2] == "send_sms"  # collection resumed with the retry wait
    history = flow.history(case_id)
    assert [
        h["data"]["data"]["outcome"]
        for h in history
        if h["element_id"] == "call_borrower" and h["action"] == "task_completed"
    ] == ["dispute"]
    assert [h["element_id"] for h in history if h["action"] == "task_completed"] == [
        "call_borrower",
        "dispute_review",
    ]


def test_dispute_upheld_closes_the_case(flow: Flow) -> None:
    case_id, _ = flow.overdue()
    flow.work(case_id, "call_borrower", {"outcome": "claims_paid", "dispute_reason": "称已结清"})
    flow.work(case_id, "dispute_review", {"resolution": "close_case", "findings": "核实已于到期日前结清"})
    case = flow.case(case_id)
    assert case["outcome"] == "dispute_upheld"
    assert case["stage"] in ("review", "closed")
