"""KPI arithmetic on hand-made facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xinedai_workflow.domain import kpis

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _case(i: int, outcome: str | None, overdue: str = "1000") -> kpis.CaseFacts:
    return kpis.CaseFacts(f"c{i}", T0 + timedelta(hours=i), None, outcome, Decimal(overdue))


def test_cure_and_recovery_rates() -> None:
    cases = [_case(1, "cured"), _case(2, "settled"), _case(3, None), _case(4, "cured")]
    assert kpis.cure_rate(cases) == Decimal("0.5000")
    payments = [kpis.PaymentFact("c1", T0, Decimal("1000")), kpis.PaymentFact("c3", T0, Decimal("250.50")),
                kpis.PaymentFact("other", T0, Decimal("999"))]  # fmt: skip
    assert kpis.recovery_rate(cases, payments) == Decimal("0.3126")  # 1250.50 / 4000
    assert kpis.cure_rate([]) is None


def test_promise_kept_rate_counts_only_promises_that_fell_due() -> None:
    promises = [
        kpis.PromiseFact("c1", T0, date(2026, 3, 5), Decimal("500")),  # kept: 500 paid on the 6th (grace)
        kpis.PromiseFact("c2", T0, date(2026, 3, 5), Decimal("500")),  # broken: only 100 paid
        kpis.PromiseFact("c3", T0, date(2026, 3, 30), Decimal("500")),  # not yet due
    ]
    payments = [kpis.PaymentFact("c1", datetime(2026, 3, 6, tzinfo=UTC), Decimal("500")),
                kpis.PaymentFact("c2", datetime(2026, 3, 4, tzinfo=UTC), Decimal("100"))]  # fmt: skip
    rate, kept, due = kpis.promise_kept_rate(promises, payments, datetime(2026, 3, 15, tzinfo=UTC))
    assert (rate, kept, due) == (Decimal("0.5000"), 1, 2)


def test_right_party_contact_rate() -> None:
    calls = [
        kpis.CallFact("c", T0, o)
        for o in ("no_answer", "no_answer", "wrong_party", "promise_to_pay", "refused")
    ]
    assert kpis.right_party_contact_rate(calls) == Decimal("0.4000")


def test_roll_rates_follow_balances_between_buckets() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    obs = [
        kpis.DpdObservation("A", start - timedelta(days=1), 20, Decimal("1000")),  # M1 → M2
        kpis.DpdObservation("A", end - timedelta(days=1), 50, Decimal("1100")),
        kpis.DpdObservation("B", start - timedelta(days=2), 10, Decimal("3000")),  # M1 → cured
        kpis.DpdObservation("B", end - timedelta(days=5), 0, Decimal("0")),
        kpis.DpdObservation("C", start - timedelta(days=3), 45, Decimal("500")),  # M2 → M3
        kpis.DpdObservation("C", end - timedelta(days=2), 75, Decimal("520")),
    ]
    rates = kpis.roll_rates(obs, start, end)
    assert rates["M1->M2"] == Decimal("0.2750")  # 1100 / 4000
    assert rates["M2->M3"] == Decimal("1.0400")  # 520 / 500
    assert rates["M3->M3+"] is None


def test_mean_time_in_stage() -> None:
    visits = [kpis.StageVisit("a", "informal", T0, T0 + timedelta(hours=10)),
              kpis.StageVisit("b", "informal", T0, T0 + timedelta(hours=20)),
              kpis.StageVisit("b", "formal", T0 + timedelta(hours=20), None)]  # fmt: skip
    assert kpis.mean_time_in_stage(visits, T0 + timedelta(hours=26)) == {"formal": 6.0, "informal": 15.0}
