from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinedai_workflow.domain.interest import Payment
from xinedai_workflow.domain.plans import (
    MAX_TERM_MONTHS,
    InstalmentState,
    PlanError,
    PlanKind,
    RepaymentPlan,
    Stage,
    add_months,
    build_plan,
    monthly_due_dates,
    plan_status,
    reduced_instalment_plan,
    staged_plan,
    term_extension_plan,
)

D = Decimal


def amounts(plan: RepaymentPlan) -> list[str]:
    return [str(i.amount) for i in plan.instalments]


def test_end_of_month_due_dates_keep_the_anchor_day() -> None:
    assert monthly_due_dates(date(2024, 1, 31), 4) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert monthly_due_dates(date(2025, 1, 31), 2)[1] == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


def test_term_extension_puts_the_remainder_last() -> None:
    plan = term_extension_plan("1000.00", 3, date(2026, 1, 31))
    assert plan.kind is PlanKind.TERM_EXTENSION
    assert amounts(plan) == ["333.33", "333.33", "333.34"]
    assert plan.last_due_date == date(2026, 3, 31)
    assert plan.term_months == 3


def test_reduced_instalment_ends_with_a_smaller_one() -> None:
    plan = reduced_instalment_plan(D("1000.00"), D("300"), "2024-01-31")
    assert amounts(plan) == ["300.00", "300.00", "300.00", "100.00"]
    assert reduced_instalment_plan("900", "300", date(2026, 1, 1)).term_months == 3
    assert amounts(reduced_instalment_plan("50", "300", date(2026, 1, 1))) == ["50.00"]


def test_staged_plan_twenty_percent_now_then_instalments() -> None:
    plan = staged_plan("10000.01", [Stage(1, share=D("0.2")), Stage(12)], date(2026, 1, 31))
    assert plan.instalments[0].amount == D("2000.00")
    assert plan.instalments[0].stage == 1
    assert {i.stage for i in plan.instalments[1:]} == {2}
    # 8,000.01 / 12 = 666.6675 -> 11 × 666.66 and 8,000.01 - 7,326.26 = 666.75 last
    assert amounts(plan)[1:] == ["666.66"] * 11 + ["666.75"]
    assert sum((i.amount for i in plan.instalments), D(0)) == D("10000.01")


def test_staged_plan_with_amounts_and_explicit_last_share() -> None:
    plan = staged_plan("100", [Stage(1, amount=D("30")), Stage(2, share=D("0.7"))], "2026-01-01")
    assert amounts(plan) == ["30.00", "35.00", "35.00"]
    with pytest.raises(PlanError, match="remainder"):
        staged_plan("100", [Stage(1, share=D("0.2")), Stage(2, share=D("0.5"))], "2026-01-01")
    with pytest.raises(PlanError):
        staged_plan("100", [Stage(1), Stage(2)], "2026-01-01")
    with pytest.raises(PlanError):
        staged_plan("100", [Stage(1, amount=D("120")), Stage(2)], "2026-01-01")
    with pytest.raises(PlanError):
        staged_plan("100", [Stage(1, amount=D("10"), share=D("0.1")), Stage(2)], "2026-01-01")


@pytest.mark.parametrize(
    "build",
    [
        lambda: term_extension_plan("1000", MAX_TERM_MONTHS + 1, date(2026, 1, 1)),
        lambda: term_extension_plan("1000", 0, date(2026, 1, 1)),
        lambda: term_extension_plan("0", 3, date(2026, 1, 1)),
        lambda: term_extension_plan("-5", 3, date(2026, 1, 1)),
        lambda: term_extension_plan("0.05", 6, date(2026, 1, 1)),
        lambda: term_extension_plan("10.001", 2, date(2026, 1, 1)),
        lambda: term_extension_plan(10.0, 2, date(2026, 1, 1)),
        lambda: term_extension_plan("10", 2, "31/01/2026"),
        lambda: reduced_instalment_plan("6100", "100", date(2026, 1, 1)),
        lambda: reduced_instalment_plan("100", "0", date(2026, 1, 1)),
        lambda: reduced_instalment_plan("100", "0.001", date(2026, 1, 1)),
        lambda: staged_plan("100", [], date(2026, 1, 1)),
        lambda: staged_plan("100", [Stage(1, share=D("0.5")), Stage(60)], date(2026, 1, 1)),
    ],
)
def test_nonsense_is_rejected_with_plan_error(build: object) -> None:
    with pytest.raises(PlanError):
        build()  # type: ignore[operator]
    assert issubclass(PlanError, ValueError)


def test_sixty_months_is_allowed() -> None:
    assert term_extension_plan("6000", 60, date(2026, 1, 31)).last_due_date == date(2030, 12, 31)


def test_plan_invariants_are_checked_on_construction() -> None:
    plan = term_extension_plan("100", 2, date(2026, 1, 1))
    with pytest.raises(PlanError):
        RepaymentPlan(PlanKind.TERM_EXTENSION, D("101"), plan.instalments)
    with pytest.raises(PlanError):
        RepaymentPlan(PlanKind.TERM_EXTENSION, D("100"), tuple(reversed(plan.instalments)))


def test_build_plan_dict_api() -> None:
    data = build_plan("staged", "100", "2026-01-01", stages=[{"share": "0.2"}, {"count": 3}])
    assert data["kind"] == "staged"
    assert [i["amount"] for i in data["instalments"]] == ["20.00", "26.66", "26.66", "26.68"]
    assert build_plan("term_extension", "90", "2026-01-31", months=3)["last_due_date"] == "2026-03-31"
    assert build_plan("reduced_instalment", "90", "2026-01-31", monthly_amount="40")["term_months"] == 3
    with pytest.raises(PlanError):
        build_plan("term_extension", "90", "2026-01-31")
    with pytest.raises(ValueError):
        build_plan("holiday", "90", "2026-01-31")


# --- plan_status ------------------------------------------------------------------------------


def test_plan_status_paid_due_missed_upcoming() -> None:
    plan = term_extension_plan("300", 3, date(2026, 1, 10))  # 100 on Jan 10, Feb 10, Mar 10
    status = plan_status(
        plan, [(date(2026, 1, 9), D("100")), {"paid_on": "2026-02-20", "amount": "30"}], date(2026, 3, 12), 3
    )
    states = [s.state for s in status.instalments]
    # Feb: only 30 paid and the 3 grace days passed -> missed; Mar 10 + 3 days >= Mar 12 -> due
    assert states == [InstalmentState.PAID, InstalmentState.MISSED, InstalmentState.DUE]
    assert status.instalments[0].paid_on == date(2026, 1, 9) and not status.instalments[0].late
    assert status.instalments[1].paid_amount == D("30") and status.instalments[1].outstanding == D("70")
    assert status.overdue_amount == D("70")
    assert status.outstanding_total == D("170")
    assert status.next_due is not None and status.next_due.number == 2
    assert status.adherence == D("0.5000")  # Jan on time, Feb missed; Mar still in grace
    assert not status.completed
    data = status.to_dict()
    assert data["missed_count"] == 1 and data["in_default"] is True
    assert data["instalments"][2]["state"] == "due"


def test_plan_status_upcoming_late_and_completed() -> None:
    plan = term_extension_plan("200", 2, date(2026, 1, 10))
    before = plan_status(plan, [], date(2026, 1, 1))
    assert [s.state for s in before.instalments] == [InstalmentState.UPCOMING] * 2
    assert before.adherence is None
    payments = [Payment(date(2026, 1, 20), D("100")), Payment(date(2026, 2, 1), D("150"))]
    done = plan_status(plan, payments, date(2026, 2, 15))
    assert done.completed
    assert done.instalments[0].late and not done.instalments[1].late
    assert done.overpaid == D("50")
    assert done.adherence == D("0.5000")
    # payments after as_of are ignored
    assert plan_status(plan, payments, date(2026, 1, 15)).paid_total == 0


# --- properties -------------------------------------------------------------------------------

totals = st.decimals(min_value=D("0.01"), max_value=D("5000000.00"), places=2)
first_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def check(plan: RepaymentPlan, total: Decimal) -> None:
    assert sum((i.amount for i in plan.instalments), D(0)) == total
    assert all(i.amount > 0 and i.amount == i.amount.quantize(D("0.01")) for i in plan.instalments)
    dates = [i.due_date for i in plan.instalments]
    assert all(a < b for a, b in pairwise(dates))
    assert 1 <= len(plan.instalments) <= MAX_TERM_MONTHS


@settings(max_examples=200, deadline=None)
@given(total=totals, months=st.integers(1, MAX_TERM_MONTHS), first=first_dates)
def test_term_extension_property(total: Decimal, months: int, first: date) -> None:
    if total < D("0.01") * months:
        with pytest.raises(PlanError):
            term_extension_plan(total, months, first)
        return
    check(term_extension_plan(total, months, first), total)


@settings(max_examples=200, deadline=None)
@given(
    total=totals, monthly=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2), first=first_dates
)
def test_reduced_instalment_property(total: Decimal, monthly: Decimal, first: date) -> None:
    try:
        plan = reduced_instalment_plan(total, monthly, first)
    except PlanError:
        assert total / monthly > MAX_TERM_MONTHS
        return
    check(plan, total)
    assert all(i.amount == monthly for i in plan.instalments[:-1])
    assert plan.instalments[-1].amount <= monthly


@settings(max_examples=200, deadline=None)
@given(
    total=totals,
    share=st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2),
    first_count=st.integers(1, 3),
    rest_count=st.integers(1, 57),
    first=first_dates,
)
def test_staged_property(
    total: Decimal, share: Decimal, first_count: int, rest_count: int, first: date
) -> None:
    try:
        plan = staged_plan(total, [Stage(first_count, share=share), Stage(rest_count)], first)
    except PlanError:
        return  # too small to split into fen instalments
    check(plan, total)
