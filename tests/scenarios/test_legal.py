"""Formal demand and litigation: demand letter → litigation → judgment → enforcement → closed, and a
payment during litigation that settles the case. Also renders the demand letter PDF of a real case."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.scenarios.conftest import Flow

LARGE_M3_PLUS = {
    "days_past_due": 95,
    "due_date": "2025-11-27",
    "principal": "80000.00",
    "overdue_principal": "12000.00",
    "overdue_interest": "1260.00",
    "annual_rate": "0.063",
}


def _to_legal_review(flow: Flow) -> tuple[str, str, dict[str, Any]]:
    """An M3+ case with a large amount: the DMN sends it straight to the demand letter."""
    case_id, loan_id = flow.overdue(**LARGE_M3_PLUS)
    case = flow.case(case_id)
    assert case["stage"] == "formal" and case["variables"]["strategy"] == "early_legal_review"
    # already past DPD 90: the credit-report notice (征信业管理条例 art. 15) is queued at once
    assert flow.operations(case_id) == ["send_registered_mail", "send_credit_report_notice"]
    flow.run_worker()
    letter = flow.outbox(case_id)[0]
    assert letter.status == "sent" and re.fullmatch(r"EM\d{9}CN", letter.result["reference"])
    notice = flow.outbox(case_id)[1]
    assert notice.operation == "send_credit_report_notice" and notice.status == "sent"
    confirmed = flow.confirm_deliveries(case_id, loan_id)
    assert confirmed == [letter.result["reference"], notice.result["reference"]]
    flow.advance_to_local(16, 10)  # the 15-day reply window has passed
    assert [t["name"] for t in flow.case(case_id)["open_tasks"]] == ["legal_review"]
    return case_id, loan_id, {"letter": letter}


def test_demand_letter_litigation_judgment_enforcement_closed(flow: Flow, tmp_path: Path) -> None:
    case_id, _, seen = _to_legal_review(flow)
    letter = seen["letter"]
    review = flow.detail(case_id, "legal_review")
    assert review["lane"] == "legal" and letter.result["reference"] in review["instructions"]
    assert "litigation" in review["instructions"]  # the DMN's recommendation is shown

    flow.work(case_id, "legal_review", {"decision": "litigation", "reason": "拒不还款，金额较大"})
    case = flow.case(case_id)
    assert case["stage"] == "litigation"
    evidence = case["variables"]["evidence"]
    kinds = [d["kind"] for d in evidence["documents"]]
    assert kinds[:4] == ["borrower_id", "contract", "disbursement", "repayment_history"]
    assert "demand_letter" in kinds and kinds[-1] == "computation" and evidence["complete"] is True
    by_kind = {d["kind"]: d for d in evidence["documents"]}
    assert letter.result["reference"] in by_kind["demand_letter"]["source"]
    assert by_kind["contract"]["source"].startswith("薪e贷 e-contract platform")
    assert all(d["source"] for d in evidence["documents"])
    filing = flow.detail(case_id, "file_lawsuit")
    for document in evidence["documents"]:
        assert document["title_zh"] in filing["instructions"]
    assert letter.result["reference"] in filing["instructions"]

    flow.work(
        case_id,
        "file_lawsuit",
        {
            "court": "北京市西城区人民法院",
            "filed_on": "2026-03-20",
            "court_case_no": "(2026)京0102民初1234号",
        },
    )
    flow.work(
        case_id,
        "record_judgment",
        {"judgment": "for_bank", "judgment_date": "2026-05-20", "awarded_amount": "13500.00"},
    )
    flow.work(case_id, "apply_enforcement", {"applied_on": "2026-06-10", "measures": ["account_freeze"]})
    flow.work(case_id, "record_listing", {"listing": "listed", "listed_on": "2026-06-20"})
    flow.work(
        case_id, "record_enforcement_result", {"result": "enforcement_closed", "recovered_amount": "9000.00"}
    )
    case = flow.case(case_id)
    assert case["outcome"] == "enforcement_closed" and case["stage"] == "review"
    assert flow.open_task(case_id, "retrospective")["lane"] == "supervisors"  # every litigation case
    flow.work(
        case_id,
        "retrospective",
        {"recovery_result": "partially_recovered", "customer_willing_to_continue": "no"},
    )
    case = flow.case(case_id)
    assert case["status"] == "completed" and case["stage"] == "closed"
    assert flow.stages(case_id) == ["formal", "litigation", "review", "closed"]
    assert case["variables"]["journey"] == ["assessment", "formal", "litigation"]
    completed = [h["element_id"] for h in flow.history(case_id) if h["action"] == "task_completed"]
    assert completed == [
        "legal_review",
        "file_lawsuit",
        "record_judgment",
        "apply_enforcement",
        "record_listing",
        "record_enforcement_result",
        "retrospective",
    ]
    flow.verify(case_id)

    # the letter as the mail house printed it: a real PDF with the itemised claim
    pdf = Path(letter.result["pdf"])
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    for phrase in ("催 款 通 知 书", "明德银行", "罚息", "王小明", "24", "还款方式"):
        assert phrase.replace(" ", "") in text.replace(" ", ""), phrase
    keep = os.environ.get("XINEDAI_KEEP_LETTER")
    if keep:
        shutil.copy(pdf, keep)


def test_payment_during_litigation_settles(flow: Flow) -> None:
    case_id, loan_id, _ = _to_legal_review(flow)
    flow.work(case_id, "legal_review", {"decision": "payment_order"})
    assert [t["name"] for t in flow.case(case_id)["open_tasks"]] == ["payment_order"]
    flow.work(case_id, "payment_order", {"result": "objection_raised", "issued_on": "2026-03-25"})
    assert [t["name"] for t in flow.case(case_id)["open_tasks"]] == ["file_lawsuit"]
    owed = flow.case(case_id)["variables"]["claim_total"]
    flow.advance(timedelta(hours=1))
    flow.pay(loan_id, "5000.00")
    case = flow.case(case_id)
    assert case["status"] == "active" and case["stage"] == "litigation"
    assert case["variables"]["ledger"]["paid_total"] == "5000.00"
    rest = case["variables"]["ledger"]["balance"]["owed"]
    assert float(rest) < float(owed) - 4000
    flow.pay(loan_id, rest)
    case = flow.case(case_id)
    assert case["outcome"] == "settled" and case["stage"] == "review"
    assert [t["name"] for t in case["open_tasks"]] == ["retrospective"]
    history = flow.history(case_id)
    assert any(h["action"] == "task_cancelled" and h["element_id"] == "file_lawsuit" for h in history)
    flow.work(
        case_id,
        "retrospective",
        {"recovery_result": "recovered_in_full", "customer_willing_to_continue": "unknown"},
    )
    assert flow.case(case_id)["status"] == "completed"
    assert flow.stages(case_id) == ["formal", "litigation", "review", "closed"]


def test_the_local_sink_confirms_delivery_of_the_letter(flow: Flow) -> None:
    """In the embedded default the sink is the carrier: its hand-over is the delivery receipt."""
    case_id, _ = flow.overdue(**LARGE_M3_PLUS)
    flow.run_worker()
    letter = flow.outbox(case_id)[0]
    receipts = [h for h in flow.history(case_id) if h["action"] in ("message_received", "message_buffered")]
    assert [(h["data"]["name"], h["data"]["payload"]["reference"]) for h in receipts] == [
        ("notice_delivered", letter.result["reference"])
    ]
    ledger = flow.case(case_id)["variables"]["ledger"]
    assert [r["reference"] for r in ledger["receipts"]] == [letter.result["reference"]]
    flow.verify(case_id)
