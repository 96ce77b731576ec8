"""The overdue process's ledger: payments, updates, plans, promises, deadlines and evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xinedai_workflow.domain import process_rules as rules
from xinedai_workflow.domain.plans import build_plan

CASE = {
    "loan_id": "L-1",
    "annual_rate": "0.063",
    "overdue_principal": "2100.00",
    "overdue_interest": "262.50",
    "due_date": "2026-02-25",
    "days_past_due": 5,
    "occurred_at": "2026-03-02T09:00:00+08:00",
}
TERMS = {"penalty_uplift": "0.5", "day_count_basis": 360, "cap_annual_rate": "0.24"}
TODAY = date(2026, 3, 2)


def _ledger() -> dict:
    return rules.open_ledger(CASE, TERMS, TODAY)


def test_the_balance_is_the_claim_with_penalty_and_compound_interest() -> None:
    ledger = _ledger()
    # 5 days at 6.3% × 1.5 / 360 on 2,100.00 = 2.76; on the unpaid interest 262.50 = 0.34
    assert ledger["balance"] == {
        "as_of": "2026-03-02",
        "basis": "claim",
        "owed": "2365.60",
        "principal": "2100.00",
        "interest": "262.50",
        "penalty": "2.76",
        "compound": "0.34",
        "cap_exceeded": False,
    }
    assert rules.balance_on(ledger, date(2026, 3, 12))["owed"] > ledger["balance"]["owed"]


def test_payments_reduce_the_claim_and_the_same_payment_counts_once() -> None:
    ledger = _ledger()
    paid = {"event_id": "p1", "amount": "365.60", "paid_at": "2026-03-02T10:00:00+08:00"}
    after = rules.record_payment(ledger, paid, TODAY)
    assert after["balance"]["owed"] == "2000.00" and after["paid_total"] == "365.60"
    assert rules.record_payment(after, paid, TODAY)["paid_total"] == "365.60"
    assert ledger["payments"] == []  # the input is never changed
    done = rules.record_payment(
        after, {"event_id": "p2", "amount": "2000.00", "paid_at": "2026-03-02T11:00:00+08:00"}, TODAY
    )
    assert done["paid_in_full"] is True and done["balance"]["owed"] == "0.00"


def test_a_ledger_update_replaces_the_figures_and_keeps_later_payments() -> None:
    ledger = rules.record_payment(
        _ledger(),
        {"event_id": "p1", "amount": "100.00", "paid_at": "2026-03-03T10:00:00+08:00"},
        date(2026, 3, 3),
    )
    update = {
        **CASE,
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "occurred_at": "2026-03-04T09:00:00+08:00",
    }
    cleared = rules.record_update(ledger, update, date(2026, 3, 4))
    assert cleared["paid_in_full"] is True and cleared["paid_total"] == "100.00"


def test_a_plan_fixes_what_is_owed_and_is_monitored_per_instalment() -> None:
    plan = build_plan("term_extension", "2365.60", "2026-04-02", months=3)
    ledger = rules.record_plan(_ledger(), plan, TODAY)
    assert ledger["balance"] == {"as_of": "2026-03-02", "basis": "plan", "owed": "2365.60"}
    first = plan["instalments"][0]["amount"]
    ledger = rules.record_payment(
        ledger, {"event_id": "i1", "amount": first, "paid_at": "2026-04-01T10:00:00+08:00"}, date(2026, 4, 1)
    )
    progress = rules.plan_progress(ledger, date(2026, 5, 6), grace_days=3)
    assert [i["state"] for i in progress["instalments"]] == ["paid", "missed", "upcoming"]
    assert rules.record_plan(ledger, None, date(2026, 5, 6))["balance"]["basis"] == "claim"


def test_promise_status() -> None:
    ledger = _ledger()
    promise = {"amount": "500.00", "date": "2026-03-05", "made_on": "2026-03-02"}
    assert rules.promise_status(ledger, promise, date(2026, 3, 7), 2) == "pending"
    assert rules.promise_status(ledger, promise, date(2026, 3, 8), 2) == "broken"
    paid = rules.record_payment(
        ledger,
        {"event_id": "p", "amount": "500.00", "paid_at": "2026-03-04T12:00:00+08:00"},
        date(2026, 3, 4),
    )
    assert rules.promise_status(paid, promise, date(2026, 3, 8), 2) == "kept"


def test_deadlines_and_calling_hours_are_in_the_borrowers_time_zone() -> None:
    assert rules.deadline("2026-03-05", 2, "Asia/Shanghai") == "2026-03-07T16:00:00+00:00"
    early = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # 06:30 in Shanghai
    assert not rules.in_calling_hours(early, "Asia/Shanghai", "08:00", "21:00")
    assert rules.calling_hours_open(early, "Asia/Shanghai", "08:00") == "2026-03-02T00:00:00+00:00"
    assert rules.in_calling_hours(datetime(2026, 3, 2, 1, tzinfo=UTC), "Asia/Shanghai", "08:00", "21:00")


def test_evidence_lists_every_notice_with_its_delivery_proof() -> None:
    ledger = rules.record_receipt(
        _ledger(),
        {
            "request_id": "t1:send_registered_mail",
            "channel": "registered_mail",
            "reference": "EM123456785CN",
            "carrier": "EMS",
            "delivered_at": "2026-03-05T10:00:00+08:00",
        },
    )
    notices = [
        rules.notice_record("sms", {"request_id": "t0:send_sms"}, TODAY, "短信正文", "sms_reminder"),
        rules.notice_record(
            "registered_mail",
            {"request_id": "t1:send_registered_mail"},
            TODAY,
            "催款通知书正文",
            "demand_letter",
        ),
    ]
    case = {"loan_id": "L-1", "borrower": {"id": "B-1", "name": "王小明"}, "principal": "50000.00"}
    manifest = rules.evidence_package(case, ledger, notices, date(2026, 3, 20))
    by_kind = {d["kind"]: d for d in manifest["documents"]}
    assert manifest["complete"] is True
    assert (
        "EM123456785CN" in by_kind["demand_letter"]["source"]
        and "2026-03-05" in by_kind["demand_letter"]["source"]
    )
    assert by_kind["sms"]["source"].startswith("outbox message t0:send_sms")
    assert by_kind["contract"]["source"] == "薪e贷 e-contract platform: L-1"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2), min_size=1, max_size=6
    )
)
def test_paid_total_is_the_sum_of_distinct_payments(amounts: list[Decimal]) -> None:
    ledger = _ledger()
    for n, amount in enumerate(amounts):
        ledger = rules.record_payment(
            ledger,
            {"event_id": f"p{n}", "amount": str(amount), "paid_at": "2026-03-02T10:00:00+08:00"},
            TODAY,
        )
    assert Decimal(ledger["paid_total"]) == sum(amounts)
    assert ledger["paid_in_full"] == (sum(amounts) >= Decimal("2365.60"))
