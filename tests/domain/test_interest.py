"""Penalty / compound interest. Worked examples are computed by hand in the comments."""

from datetime import date, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinedai_workflow.domain.interest import (
    Component,
    InterestError,
    ItemKind,
    LoanPosition,
    Payment,
    ProductTerms,
    RateChange,
    compute_claim,
    compute_penalty_interest,
)
from xinedai_workflow.domain.money import to_fen

D = Decimal


def terms(rate: str = "0.063", uplift: str = "0.5", basis: int = 360) -> ProductTerms:
    return ProductTerms(annual_rate=D(rate), penalty_uplift=D(uplift), day_count_basis=basis)


# --- Example 1: one full year of penalty interest on overdue principal ---------------------------
# Contract rate 6.3%/yr, uplift 50%  ->  penalty rate = 6.3% × (1 + 0.5) = 9.45%/yr.
# Principal 10,000.00 overdue from 2025-01-15 to 2026-01-15 = 365 days (2025 is not a leap year).
#   basis 360: 10,000 × 0.0945 × 365 / 360 = 945 × 365 / 360 = 344,925 / 360 = 958.125 -> 958.13
#   basis 365: 10,000 × 0.0945 × 365 / 365 = 945.00


def test_penalty_rate_is_contract_rate_plus_uplift() -> None:
    assert terms().penalty_rate == D("0.0945")
    assert terms(uplift="0.3").penalty_rate == D("0.0819")  # 6.3% × 1.3


@pytest.mark.parametrize(("basis", "exact", "fen"), [(360, "958.125", "958.13"), (365, "945", "945.00")])
def test_one_year_penalty_on_principal(basis: int, exact: str, fen: str) -> None:
    pos = LoanPosition(D("10000.00"), D("0"), date(2025, 1, 15), date(2026, 1, 15))
    result = compute_penalty_interest(pos, terms(basis=basis))
    assert result.days_overdue == 365
    assert result.accrued[ItemKind.PENALTY] == D(exact)  # full precision internally
    assert result.accrued[ItemKind.COMPOUND] == 0
    assert [(i.start, i.end, i.days, i.kind) for i in result.items] == [
        (date(2025, 1, 15), date(2026, 1, 15), 365, ItemKind.PENALTY)
    ]
    data = result.to_dict()
    assert data["outstanding"]["penalty"] == fen
    assert data["outstanding"]["total"] == str(D("10000.00") + D(fen))
    assert data["terms"]["penalty_rate_pct"] == "9.45%"
    assert data["items"][0]["amount"] == fen


# --- Example 2: compound interest on unpaid interest, then a payment ----------------------------
# Principal 10,000.00 and unpaid interest 500.00 due 2025-01-15; 9.45%/yr; basis 360.
# 2025-01-15 -> 2025-02-14 = 30 days:
#   penalty  = 10,000 × 0.0945 × 30 / 360 = 945 × 30 / 360   = 78.75
#   compound =    500 × 0.0945 × 30 / 360 = 47.25 × 30 / 360 = 3.9375 -> 3.94
#   total owed = 10,000 + 500 + 78.75 + 3.94 = 10,582.69
# A payment of 100.00 on 2025-02-14 settles (fees 0) penalty 78.75, compound 3.94, and
#   100 - 78.75 - 3.94 = 17.31 of interest -> unpaid interest 482.69.
# 2025-02-14 -> 2025-03-16 = 30 days:
#   penalty  = 78.75 again
#   compound = 482.69 × 0.0945 × 30 / 360 = 482.69 × 0.007875 = 3.80118375 -> 3.80
#   total owed = 10,000 + 482.69 + 78.75 + 3.80 = 10,565.24


def test_compound_interest_on_unpaid_interest() -> None:
    data = compute_claim("10000.00", "500.00", "2025-01-15", "2025-02-14", "0.063")
    assert data["accrued"] == {"penalty": "78.75", "compound": "3.94", "total": "82.69"}
    assert data["outstanding"]["total"] == "10582.69"
    compound = [i for i in data["items"] if i["kind"] == "compound"]
    assert compound == [
        {
            "from": "2025-01-15",
            "to": "2025-02-14",
            "days": 30,
            "kind": "compound",
            "kind_zh": "复利",
            "base": "500.00",
            "annual_rate": "0.0945",
            "annual_rate_pct": "9.45%",
            "amount": "3.94",
        }
    ]


def test_payment_settles_penalty_compound_interest_then_principal() -> None:
    pos = LoanPosition(
        D("10000.00"),
        D("500.00"),
        date(2025, 1, 15),
        date(2025, 3, 16),
        payments=(Payment(date(2025, 2, 14), D("100.00"), "PAY-1"),),
    )
    result = compute_penalty_interest(pos, terms())
    (application,) = result.payments
    assert dict(application.allocated) == {
        Component.PENALTY: D("78.75"),
        Component.COMPOUND: D("3.94"),
        Component.INTEREST: D("17.31"),
    }
    assert result.outstanding[Component.INTEREST] == D("482.69")
    assert result.outstanding[Component.COMPOUND] == D("3.80118375")
    data = result.to_dict()
    assert data["outstanding"] == {
        "principal": "10000.00",
        "interest": "482.69",
        "penalty": "78.75",
        "compound": "3.80",
        "fees": "0.00",
        "total": "10565.24",
    }
    assert data["payments"][0]["reference"] == "PAY-1"


def test_allocation_order_is_a_parameter() -> None:
    pos = LoanPosition(
        D("1000.00"),
        D("100.00"),
        date(2025, 1, 1),
        date(2025, 1, 31),
        payments=(Payment(date(2025, 1, 11), D("50")),),
    )
    order = [Component.PRINCIPAL, Component.INTEREST, Component.PENALTY, Component.COMPOUND, Component.FEES]
    result = compute_penalty_interest(pos, terms(), allocation_order=order)
    assert dict(result.payments[0].allocated) == {Component.PRINCIPAL: D("50")}
    with pytest.raises(InterestError):
        compute_penalty_interest(pos, terms(), allocation_order=[Component.PRINCIPAL])


def test_overpayment_is_reported_as_unapplied() -> None:
    data = compute_claim(
        "100.00",
        "0",
        "2025-01-01",
        "2025-01-01",
        "0.063",
        payments=[{"paid_on": "2025-01-01", "amount": "150"}],
    )
    assert data["outstanding"]["total"] == "0.00"
    assert data["unapplied"] == "50.00"


# --- Example 3: the 24% cap -------------------------------------------------------------------
# Contract rate 15%/yr, uplift 50% -> penalty rate 22.5%/yr; basis 360; fees 100.00.
# Principal 10,000.00 and unpaid interest 2,000.00 due 2025-01-01; as of 2025-12-27 = 360 days.
#   penalty  = 10,000 × 0.225 × 360 / 360 = 2,250.00
#   compound =  2,000 × 0.225 × 360 / 360 =   450.00
#   charges  = interest 2,000 + penalty 2,250 + compound 450 + fees 100 = 4,800.00
#   cap      = 24% × 10,000 × 360 / 360 = 2,400.00   (annualised 4,800 / 10,000 = 48% > 24%)
#   claim    = 10,000 + 2,000 + 2,250 + 450 + 100 = 14,800.00
#   capped   = 14,800 - (4,800 - 2,400) = 12,400.00
# With the interest period counted from 2024-01-01 (366 more principal-days):
#   cap = 24% × 10,000 × (366 + 360) / 360 = 4,840.00 >= 4,800.00 -> within the cap.


def test_claim_above_the_24_percent_cap_is_reduced() -> None:
    data = compute_claim("10000.00", "2000.00", "2025-01-01", "2025-12-27", "0.15", fees="100.00")
    cap = data["cap"]
    assert data["days_overdue"] == 360
    assert cap["charges"] == {
        "interest": "2000.00",
        "penalty": "2250.00",
        "compound": "450.00",
        "fees": "100.00",
    }
    assert cap["total_charges"] == "4800.00"
    assert cap["cap_amount"] == "2400.00"
    assert cap["annualised_rate_pct"] == "48%"
    assert cap["exceeds"] is True
    assert cap["excess"] == "2400.00"
    assert cap["claim_before_cap"] == "14800.00"
    assert cap["capped_claim"] == "12400.00"


def test_cap_period_start_widens_the_cap_base() -> None:
    data = compute_claim(
        "10000.00",
        "2000.00",
        "2025-01-01",
        "2025-12-27",
        "0.15",
        fees="100.00",
        cap_period_start="2024-01-01",
    )
    assert data["cap"]["cap_amount"] == "4840.00"
    assert data["cap"]["exceeds"] is False
    assert data["cap"]["capped_claim"] == "14800.00"


def test_ordinary_claim_is_within_the_cap() -> None:
    data = compute_claim("10000.00", "500.00", "2025-01-15", "2026-01-15", "0.063")
    # charges 500 + 958.13 + 47.91 = 1,506.04 vs cap 24% × 10,000 × 365 / 360 = 2,433.33
    assert data["cap"]["total_charges"] == "1506.04"
    assert data["cap"]["cap_amount"] == "2433.33"
    assert data["cap"]["exceeds"] is False


# --- itemisation ------------------------------------------------------------------------------


def test_monthly_itemisation_matches_the_single_range_and_adds_up() -> None:
    whole = compute_claim("50000.00", "787.50", "2025-03-15", "2026-01-20", "0.063")
    monthly = compute_claim("50000.00", "787.50", "2025-03-15", "2026-01-20", "0.063", itemise="month")
    assert whole["outstanding"] == monthly["outstanding"]
    assert monthly["items"][0]["from"] == "2025-03-15" and monthly["items"][0]["to"] == "2025-04-01"
    assert monthly["items"][-1]["to"] == "2026-01-20"
    for kind in ("penalty", "compound"):
        lines = [D(i["amount"]) for i in monthly["items"] if i["kind"] == kind]
        assert sum(lines, D(0)) == D(monthly["accrued"][kind])
    assert sum(i["days"] for i in monthly["items"] if i["kind"] == "penalty") == monthly["days_overdue"]


def test_rate_change_splits_the_range() -> None:
    # 10,000 × 0.0945 × 10/360 = 26.25;
    # then the rate drops to 6% -> penalty 9%: 10,000 × 0.09 × 20/360 = 50.00
    pos = LoanPosition(
        D("10000"),
        D("0"),
        date(2025, 1, 1),
        date(2025, 1, 31),
        rate_changes=(RateChange(date(2025, 1, 11), D("0.06")),),
    )
    result = compute_penalty_interest(pos, terms())
    assert [(i.days, i.annual_rate, i.amount) for i in result.items] == [
        (10, D("0.0945"), D("26.25")),
        (20, D("0.090"), D("50.00")),
    ]


def test_items_are_full_precision_and_presented_to_the_fen() -> None:
    result = compute_penalty_interest(
        LoanPosition(D("333.33"), D("0"), date(2025, 1, 1), date(2025, 1, 8)), terms(basis=365)
    )
    amount = result.items[0].amount
    assert amount != to_fen(amount)  # 333.33 × 0.0945 × 7 / 365, not rounded internally
    assert result.to_dict()["items"][0]["amount"] == str(to_fen(amount))


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"annual_rate": D("0.063"), "penalty_uplift": D("0.6")},
        {"annual_rate": D("0.063"), "penalty_uplift": D("0.2")},
        {"annual_rate": D("0.063"), "day_count_basis": 366},
        {"annual_rate": 0.063},
        {"annual_rate": D("NaN")},
        {"annual_rate": D("-0.01")},
        {"annual_rate": D("0.063"), "cap_annual_rate": D("0")},
    ],
)
def test_invalid_terms(kwargs: dict[str, object]) -> None:
    with pytest.raises(InterestError):
        ProductTerms(**kwargs)  # type: ignore[arg-type]


def test_invalid_positions() -> None:
    with pytest.raises(InterestError):
        LoanPosition(D("1"), D("0"), date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(InterestError):
        LoanPosition(D("1.001"), D("0"), date(2025, 1, 1), date(2025, 2, 1))
    with pytest.raises(InterestError):
        LoanPosition(
            D("1"), D("0"), date(2025, 1, 1), date(2025, 2, 1), payments=(Payment(date(2025, 3, 1), D("1")),)
        )
    with pytest.raises(InterestError):
        Payment(date(2025, 1, 1), D("0"))
    with pytest.raises(InterestError):
        compute_claim("1000", "0", "2025-01-01", "not-a-date", "0.063")
    with pytest.raises(ValueError):
        compute_claim(1000.0, "0", "2025-01-01", "2025-02-01", "0.063")  # type: ignore[arg-type]


def test_compute_claim_returns_only_json_types() -> None:
    data = compute_claim(
        "10000",
        "500",
        "2025-01-15",
        "2025-06-15",
        "0.063",
        payments=[{"paid_on": "2025-03-01", "amount": "700"}],
    )

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert value is None or isinstance(value, (str, int, bool))

    walk(data)
    assert data["algorithm"].startswith("xinedai_workflow.domain.interest v")


# --- properties -------------------------------------------------------------------------------

money = st.decimals(min_value=D("0.00"), max_value=D("1000000.00"), places=2)
rates = st.decimals(min_value=D("0.0001"), max_value=D("0.2400"), places=4)


@settings(max_examples=150, deadline=None)
@given(
    principal=money,
    interest=money,
    rate=rates,
    uplift=st.sampled_from([D("0.3"), D("0.4"), D("0.5")]),
    basis=st.sampled_from([360, 365]),
    days=st.integers(min_value=0, max_value=2000),
    extra=st.integers(min_value=0, max_value=400),
)
def test_interest_is_monotonic_in_days(
    principal: Decimal, interest: Decimal, rate: Decimal, uplift: Decimal, basis: int, days: int, extra: int
) -> None:
    t = ProductTerms(rate, uplift, basis)
    due = date(2024, 1, 31)
    early = compute_penalty_interest(LoanPosition(principal, interest, due, due + timedelta(days=days)), t)
    late = compute_penalty_interest(
        LoanPosition(principal, interest, due, due + timedelta(days=days + extra)), t
    )
    for kind in ItemKind:
        assert late.accrued[kind] >= early.accrued[kind]
    assert late.total_outstanding >= early.total_outstanding
    # closed form without payments: base × rate × days / basis (computed at the module's precision)
    with localcontext() as ctx:
        ctx.prec = 50
        assert early.accrued[ItemKind.PENALTY] == principal * t.penalty_rate * days / basis
