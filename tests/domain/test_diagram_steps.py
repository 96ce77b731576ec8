"""The named steps the overdue diagram calls: each one computes what its script used to inline."""

from __future__ import annotations

from datetime import date

from xinedai_workflow.domain import diagram_steps as steps
from xinedai_workflow.runtime.script_helpers import SCRIPT_HELPERS

BORROWER = {"id": "B-1", "name": "王小明", "timezone": "Asia/Shanghai"}
TERMS = steps.loan_terms("0.5", 360, "0.24")


def _ledger() -> dict:
    case = steps.case_record("L-1", BORROWER, "50000.00", "0.063")
    return steps.open_case_ledger(
        case, TERMS, "2100.00", "262.50", "2026-02-25", 5, "2026-03-02T09:00:00+08:00", date(2026, 3, 2)
    )


def test_every_step_is_in_the_helper_table() -> None:
    public = [name for name in vars(steps) if callable(getattr(steps, name)) and not name.startswith("_")]
    own = [name for name in public if getattr(steps, name).__module__ == steps.__name__]
    assert own and all(SCRIPT_HELPERS[name] is getattr(steps, name) for name in own)


def test_case_record_keeps_contract_fields_only_when_known() -> None:
    assert "contract_no" not in steps.case_record("L-1", BORROWER, "1", "0.1")
    known = steps.case_record("L-1", BORROWER, "1", "0.1", "HT-9", "2025-01-02")
    assert known["contract_no"] == "HT-9" and known["contract_date"] == "2025-01-02"


def test_the_ledger_opens_with_the_event_figures_and_dpd_counts_from_the_due_date() -> None:
    ledger = _ledger()
    assert ledger["figures"]["due_date"] == "2026-02-25" and ledger["timezone"] == "Asia/Shanghai"
    assert not ledger["paid_in_full"] and not steps.settles(ledger)
    assert steps.dpd_on(ledger, date(2026, 3, 2)) == 5 and steps.dpd_on(ledger, "2026-05-26") == 90


def test_a_call_outcome_routes_and_leaves_a_notice() -> None:
    assert [steps.call_result_of(o) for o in ("promise_to_pay", "claims_paid", "dispute", "no_answer")] == [
        "promise",
        "dispute",
        "dispute",
        "no_contact",
    ]
    notice = steps.call_notice("no_answer", "关机", 3, date(2026, 3, 2))
    assert (
        notice["request_id"] == "call:3" and notice["text"] == "no_answer: 关机" and notice["kind"] == "call"
    )
    assert steps.call_notice("refused", "", 0, date(2026, 3, 2))["text"] == "refused"


def test_wrong_party_makes_the_borrower_unreachable_from_the_second_call() -> None:
    assert steps.unreachable_after("wrong_party", 1, False) is False
    assert steps.unreachable_after("wrong_party", 2, False) is True
    assert steps.unreachable_after("no_answer", 5, True) is True  # other outcomes keep the flag


def test_after_no_contact_retries_until_attempts_or_dpd_threshold() -> None:
    assert steps.after_no_contact(1, 3, 10, 30) == "retry"
    assert steps.after_no_contact(3, 3, 10, 30) == "no_contact"
    assert steps.after_no_contact(1, 3, 30, 30) == "dpd_threshold"
    assert steps.after_no_contact(3, 3, 31, 30) == "dpd_threshold"


def test_paid_in_full_cures_before_the_formal_stage_and_settles_after() -> None:
    assert steps.paid_outcome([]) == "cured"
    assert steps.paid_outcome(["assessment", "informal"]) == "cured"
    assert steps.paid_outcome(["assessment", "informal", "formal"]) == "settled"


def test_the_plan_from_the_mediators_form() -> None:
    staged = steps.plan_from_form("staged", "1200.00", "2026-04-01", 3, first_share="0.25")
    assert len(staged["instalments"]) == 4 and staged["instalments"][0]["amount"] == "300.00"
    reduced = steps.plan_from_form("reduced_instalment", "1000.00", "2026-04-01", 3, monthly_amount="400.00")
    assert [i["amount"] for i in reduced["instalments"]][:2] == ["400.00", "400.00"]
    context = steps.plan_confirmation_context({"bank_name": "明德银行"}, staged, None)
    assert (
        context["plan"] is staged and context["mediation_body"] == "" and context["bank_name"] == "明德银行"
    )


def test_instalment_state_and_deadline() -> None:
    waiting = {"completed": False, "missed_count": 0, "next_due": {"due_date": "2026-04-01"}}
    assert steps.instalment_state(waiting) == "waiting"
    assert steps.instalment_state({**waiting, "missed_count": 1}) == "missed"
    assert steps.instalment_state({**waiting, "completed": True}) == "completed"
    # end of the borrower's local day 2026-04-04 (due + 3 days' grace) is 16:00 UTC
    assert steps.next_instalment_deadline(waiting, 3, "Asia/Shanghai") == "2026-04-04T16:00:00+00:00"
    assert steps.next_instalment_deadline({**waiting, "next_due": None}, 3, "Asia/Shanghai") is None


def test_delivery_note_names_the_last_registered_mail_receipt() -> None:
    ledger = {
        "receipts": [
            {"channel": "sms", "reference": "S"},
            {"channel": "registered_mail", "reference": "EMS1"},
        ]
    }
    assert steps.delivery_note_of(ledger) == "已妥投，邮件号 EMS1"
    assert steps.delivery_note_of({"receipts": []}) == "尚未收到妥投回执"
    assert steps.for_pdf({"letter_no": "X"}) == {"letter_no": "X", "for_pdf": True}
