"""One figure everywhere: the case view, the task detail, the demand letter (read back from the PDF
text) and the evidence package agree to the fen, for hand-checked worked examples.

Every case runs on the real overdue process. The clock starts on Monday 2026-03-02, 09:00 in
Shanghai; each example's figures are worked out by hand in its comment (rates / 360, 算头不算尾,
rounded half-up to the fen only when printed).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.scenarios.conftest import Flow
from xinedai_workflow.documents import render_demand_letter_pdf
from xinedai_workflow.domain import process_rules

M1 = {  # the default event: 2,100.00 overdue principal at 6.3%, 262.50 interest, due 2026-02-25
    "days_past_due": 5,
    "due_date": "2026-02-25",
}
# 10,000.00 at 18% (penalty rate 27%), one month's interest 150.00, 200 days overdue
OVER_CAP = {
    "principal": "10000.00",
    "overdue_principal": "10000.00",
    "overdue_interest": "150.00",
    "annual_rate": "0.18",
    "days_past_due": 200,
    "due_date": "2025-08-14",
}
# the issue's M3+ case: 12,000.00 at 6.3%, 630.00 interest, 95 days overdue
M3_PLUS = {
    "principal": "80000.00",
    "overdue_principal": "12000.00",
    "overdue_interest": "630.00",
    "annual_rate": "0.063",
    "days_past_due": 95,
    "due_date": "2025-11-27",
}
_MONEY = r"([\d,]+\.\d{2})"


@dataclass(frozen=True)
class Letter:
    principal: str
    interest: str
    penalty: str
    compound: str
    total: str
    demanded: str
    cap_amount: str
    excess: str | None


def _plain(amount: str) -> str:
    return amount.replace(",", "")


def read_letter(pdf: bytes) -> Letter:
    """The figures as printed in the letter's PDF text."""
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    owed = re.search(
        rf"逾期本金{_MONEY}元，逾期利息{_MONEY}元，罚息{_MONEY}元，复利{_MONEY}元.*?合计人民币{_MONEY}元",
        text,
    )
    demanded = re.search(rf"您应还金额为人民币{_MONEY}元", text)
    cap = re.search(rf"第五十一条.*?以逾期本金.*?为基数.*?上限金额{_MONEY}元", text)
    excess = re.search(rf"超出的{_MONEY}元不予主张", text)
    assert owed and demanded and cap, text
    return Letter(
        *(_plain(g) for g in owed.groups()),
        demanded=_plain(demanded.group(1)),
        cap_amount=_plain(cap.group(1)),
        excess=_plain(excess.group(1)) if excess else None,
    )


def letter_of(variables: dict[str, Any], day: date) -> bytes:
    """The letter the diagram would send on ``day`` (same context and template as the process)."""
    context = process_rules.letter_context(
        variables["case"], variables["ledger"], variables["bank"], day, 15, 1
    )
    return render_demand_letter_pdf(context)


def evidence_of(variables: dict[str, Any], day: date) -> dict[str, Any]:
    return process_rules.evidence_package(variables["case"], variables["ledger"], variables["notices"], day)


def assert_agree(view: dict[str, Any], letter: Letter, evidence: dict[str, Any]) -> None:
    """The view's amounts, the letter's text and the evidence package's claim: the same fen."""
    claim = evidence["claim"]
    for key in ("principal", "interest", "penalty", "compound", "total"):
        assert view[key] == getattr(letter, key) == claim[key], key
    assert view["claimable_total"] == letter.demanded == claim["claimable_total"]
    assert view["cap"]["cap_amount"] == letter.cap_amount == claim["cap"]["cap_amount"]
    assert view["cap_exceeded"] is (letter.excess is not None) is claim["cap_exceeded"]
    if letter.excess is not None:
        assert view["cap"]["excess"] == letter.excess == claim["cap"]["excess"]
    computation = next(d for d in evidence["documents"] if d["kind"] == "computation")
    assert computation["reference"] == f"as of {view['as_of']}"
    print(  # the side-by-side table of the closing note (pytest -s)
        f"\n{view['as_of']} view/letter/evidence: total {view['total']}/{letter.total}/{claim['total']}"
        f"  claimable {view['claimable_total']}/{letter.demanded}/{claim['claimable_total']}"
        f"  cap {view['cap']['cap_amount']}/{letter.cap_amount}/{claim['cap']['cap_amount']}"
        f"  exceeded {view['cap_exceeded']}/{letter.excess is not None}/{claim['cap_exceeded']}"
    )


def test_m1_case_at_6_3_percent_is_under_the_cap(flow: Flow) -> None:
    # 5 days (02-25 .. 03-01): penalty 2,100.00 × 9.45% × 5/360 = 2.76; compound 262.50 × 9.45% × 5/360
    # = 0.34; total 2,365.60. The 262.50 is 714 days' contract interest (262.50 × 360 / (2,100 × 6.3%)),
    # so the cap period is 2024-03-13 .. 2026-03-02, 719 days: cap 24% × 2,100 × 719/360 = 1,006.60
    # against charges 262.50 + 2.76 + 0.34 = 265.60 (6.33% a year): not exceeded.
    case_id, _ = flow.overdue(**M1)
    case = flow.case(case_id)
    view = case["amounts"]
    assert (view["principal"], view["interest"], view["penalty"], view["compound"]) == (
        "2100.00",
        "262.50",
        "2.76",
        "0.34",
    )
    assert view["total"] == view["claimable_total"] == view["owed"] == "2365.60"
    assert view["cap_exceeded"] is False and view["bucket"] == "M1"
    assert view["cap"]["period_from"] == "2024-03-13" and view["cap"]["cap_amount"] == "1006.60"
    assert view["cap"]["charges_total"] == "265.60" and view["cap"]["annualised_rate_pct"] == "6.33%"
    # the call task and its script say the same
    detail = flow.detail(case_id, "call_borrower")
    assert detail["case"]["amounts"] == view
    assert "当前应还 2365.60 元" in detail["instructions"] and "2,365.60元" in detail["instructions"]
    day = date.fromisoformat(view["as_of"])
    assert_agree(view, read_letter(letter_of(case["variables"], day)), evidence_of(case["variables"], day))


def test_a_case_above_the_cap_is_capped_everywhere(flow: Flow, tmp_path: Path) -> None:
    # 200 days at 27%: penalty 10,000.00 × 27% × 200/360 = 1,500.00; compound 150.00 × 27% × 200/360
    # = 22.50; outstanding 11,672.50. The 150.00 is 30 days' interest (from 2025-07-15), so the cap is
    # 24% × 10,000 × 230/360 = 1,533.33 against charges 150.00 + 1,500.00 + 22.50 = 1,672.50 (26.18%
    # a year): 139.17 above it is not claimed, the claim is 11,672.50 − 139.17 = 11,533.33.
    case_id, loan_id = flow.overdue(**OVER_CAP)
    case = flow.case(case_id)
    view = case["amounts"]
    assert (view["penalty"], view["compound"], view["total"]) == ("1500.00", "22.50", "11672.50")
    assert view["cap_exceeded"] is True and view["cap"]["cap_amount"] == "1533.33"
    assert view["cap"]["excess"] == "139.17" and view["cap"]["annualised_rate_pct"] == "26.18%"
    assert view["claimable_total"] == view["owed"] == "11533.33"
    # M3+ above 10,000: the process sent the demand letter at once; the mail house printed this PDF
    assert case["variables"]["strategy"] == "early_legal_review"
    flow.run_worker()
    (mail,) = [m for m in flow.outbox(case_id) if m.operation == "send_registered_mail"]
    sent = read_letter(Path(mail.result["pdf"]).read_bytes())
    assert sent.demanded == "11533.33" and sent.excess == "139.17"
    day = date.fromisoformat(view["as_of"])
    assert_agree(view, sent, evidence_of(case["variables"], day))

    # 16 days later, after the reply window: the evidence package of the litigation stage and the
    # view of that day agree too (the claim has grown by 16 days of penalty and compound interest)
    flow.confirm_deliveries(case_id, loan_id)
    flow.advance_to_local(16, 10)
    flow.work(case_id, "legal_review", {"decision": "litigation", "reason": "金额较大"})
    case = flow.case(case_id)
    later = case["amounts"]
    assert later["as_of"] == "2026-03-18" and later["cap_exceeded"] is True
    evidence = case["variables"]["evidence"]
    assert evidence["claim"] == later
    assert_agree(later, read_letter(letter_of(case["variables"], date(2026, 3, 18))), evidence)


def test_the_issues_m3_plus_case_is_under_the_cap_in_view_and_letter(flow: Flow) -> None:
    # 95 days at 9.45%: penalty 12,000.00 × 9.45% × 95/360 = 299.25; compound 630.00 × 9.45% × 95/360
    # = 15.71; total 12,944.96. The 630.00 is 300 days' interest, so the cap is 24% × 12,000 × 395/360
    # = 3,160.00 against 944.96 (7.18% a year): not exceeded (the view used to say exceeded, 12,760.00).
    case_id, _ = flow.overdue(**M3_PLUS)
    case = flow.case(case_id)
    view = case["amounts"]
    assert (view["penalty"], view["compound"], view["total"]) == ("299.25", "15.71", "12944.96")
    assert view["cap_exceeded"] is False and view["claimable_total"] == "12944.96"
    assert view["cap"]["cap_amount"] == "3160.00" and view["cap"]["annualised_rate_pct"] == "7.18%"
    flow.run_worker()
    (mail,) = [m for m in flow.outbox(case_id) if m.operation == "send_registered_mail"]
    sent = read_letter(Path(mail.result["pdf"]).read_bytes())
    assert case["variables"]["letter_owed"] == sent.demanded == "12944.96"
    assert_agree(view, sent, evidence_of(case["variables"], date.fromisoformat(view["as_of"])))


def test_a_partial_payment_settles_costs_penalty_compound_interest_then_principal(flow: Flow) -> None:
    # 1,000.00 paid on 2026-03-02 against the M1 case's 2,365.60: penalty 2.76, compound 0.34,
    # interest 262.50, principal 734.40 (fees → penalty → compound → interest → principal, Civil Code
    # Art. 561 and the contract); 1,365.60 of principal is left.
    case_id, loan_id = flow.overdue(**M1)
    flow.advance(timedelta(minutes=30))
    flow.pay(loan_id, "1000.00")
    case = flow.case(case_id)
    view = case["amounts"]
    assert view["paid"] == {
        "fees": "0.00",
        "penalty": "2.76",
        "compound": "0.34",
        "interest": "262.50",
        "principal": "734.40",
    }
    assert view["paid_total"] == case["variables"]["ledger"]["paid_total"] == "1000.00"
    assert view["total"] == view["claimable_total"] == view["owed"] == "1365.60"
    assert case["variables"]["ledger"]["balance"]["owed"] == "1365.60"
    assert view["allocation_order"] == ["fees", "penalty", "compound", "interest", "principal"]
    day = date(2026, 3, 2)
    letter_pdf = letter_of(case["variables"], day)
    assert_agree(view, read_letter(letter_pdf), evidence_of(case["variables"], day))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter_pdf)).pages))
    assert "依次冲抵罚息2.76元、复利0.34元、利息262.50元、本金734.40元" in text

    # ten days on, penalty runs on the principal left: 1,365.60 × 9.45% × 10/360 = 3.58
    flow.advance(timedelta(days=10))
    case = flow.case(case_id)
    view = case["amounts"]
    assert view["as_of"] == "2026-03-12" and view["penalty"] == "3.58" and view["total"] == "1369.18"
    day = date(2026, 3, 12)
    assert_agree(view, read_letter(letter_of(case["variables"], day)), evidence_of(case["variables"], day))


def test_the_borrowers_calendar_day_dates_the_claim_before_dawn(flow: Flow) -> None:
    # 07:00 on 2026-03-03 in Shanghai is still 2026-03-02 in UTC: the view, the letter and the
    # process's own amounts all take the borrower's day, 96 days after the due date
    flow.advance(timedelta(hours=22))
    case_id, _ = flow.overdue(**M3_PLUS, occurred_at=flow.clock.now().isoformat())
    case = flow.case(case_id)
    view = case["amounts"]
    assert view["as_of"] == "2026-03-03" and view["days_past_due"] == 96
    assert case["variables"]["letter"]["letter_date"] == "2026-03-03"
    assert (
        case["variables"]["letter_owed"]
        == view["claimable_total"]
        == case["variables"]["ledger"]["balance"]["owed"]
    )
    flow.advance(timedelta(hours=1))  # the contact policy holds the mail in quiet hours, until 08:00
    (mail,) = [m for m in flow.outbox(case_id) if m.operation == "send_registered_mail"]
    pdf = Path(mail.result["pdf"]).read_bytes()
    assert "截至2026年3月3日" in re.sub(
        r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    )
    assert_agree(view, read_letter(pdf), evidence_of(case["variables"], date(2026, 3, 3)))
