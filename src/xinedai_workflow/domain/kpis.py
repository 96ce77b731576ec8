"""Collection KPIs (domain.md, "KPIs") computed from plain facts about cases in a period.

Pure functions: the reports service extracts the facts from case rows and history, these compute.
Rates are Decimals in [0, 1] (None when the denominator is zero); money is Decimal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from .buckets import dpd_bucket

BUCKET_ORDER = ("current", "M1", "M2", "M3", "M3+")
RIGHT_PARTY_OUTCOMES = frozenset({"promise_to_pay", "hardship", "dispute", "refused", "claims_paid"})
CALL_OUTCOMES = RIGHT_PARTY_OUTCOMES | {"no_answer", "wrong_party"}


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    opened_at: datetime
    ended_at: datetime | None
    outcome: str | None
    overdue_at_open: Decimal


@dataclass(frozen=True)
class PaymentFact:
    case_id: str
    at: datetime
    amount: Decimal


@dataclass(frozen=True)
class PromiseFact:
    case_id: str
    made_at: datetime
    promised_date: date
    amount: Decimal | None


@dataclass(frozen=True)
class CallFact:
    case_id: str
    at: datetime
    outcome: str


@dataclass(frozen=True)
class StageVisit:
    case_id: str
    stage: str
    entered_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class DpdObservation:
    loan_id: str
    at: datetime
    days_past_due: int
    balance: Decimal


def _rate(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def cure_rate(
    cases: Sequence[CaseFacts], cured_outcomes: frozenset[str] = frozenset({"cured"})
) -> Decimal | None:
    """Overdue cases returned to current / overdue cases (opened in the period)."""
    return _rate(sum(1 for c in cases if c.outcome in cured_outcomes), len(cases))


def recovery_rate(cases: Sequence[CaseFacts], payments: Iterable[PaymentFact]) -> Decimal | None:
    """Amount collected on the period's cases / amount overdue at their opening."""
    ids = {c.case_id for c in cases}
    collected = sum((p.amount for p in payments if p.case_id in ids), Decimal(0))
    overdue = sum((c.overdue_at_open for c in cases), Decimal(0))
    return _rate(min(collected, overdue) if overdue else collected, overdue)


def promise_kept_rate(
    promises: Sequence[PromiseFact], payments: Sequence[PaymentFact], as_of: datetime, grace_days: int = 3
) -> tuple[Decimal | None, int, int]:
    """Promises kept / promises that fell due by `as_of`; a promise is kept when payments after it
    reach the promised amount (or any payment, if no amount was promised) by date + grace."""
    by_case: dict[str, list[PaymentFact]] = defaultdict(list)
    for payment in payments:
        by_case[payment.case_id].append(payment)
    fell_due = kept = 0
    for promise in promises:
        deadline = datetime.combine(
            promise.promised_date + timedelta(days=grace_days + 1), datetime.min.time()
        )
        deadline = deadline.replace(tzinfo=as_of.tzinfo)
        if deadline > as_of:
            continue
        fell_due += 1
        paid = sum(
            (p.amount for p in by_case[promise.case_id] if promise.made_at <= p.at < deadline), Decimal(0)
        )
        if (promise.amount is None and paid > 0) or (promise.amount is not None and paid >= promise.amount):
            kept += 1
    return _rate(kept, fell_due), kept, fell_due


def right_party_contact_rate(calls: Sequence[CallFact]) -> Decimal | None:
    """Contacts that reached the borrower / contact attempts."""
    attempts = [c for c in calls if c.outcome in CALL_OUTCOMES]
    return _rate(sum(1 for c in attempts if c.outcome in RIGHT_PARTY_OUTCOMES), len(attempts))


def mean_time_in_stage(visits: Sequence[StageVisit], as_of: datetime) -> dict[str, float]:
    """Mean hours spent per stage (open visits count up to `as_of`)."""
    totals: dict[str, list[float]] = defaultdict(list)
    for visit in visits:
        end = visit.left_at or as_of
        totals[visit.stage].append(max((end - visit.entered_at).total_seconds(), 0.0) / 3600)
    return {stage: round(sum(hours) / len(hours), 2) for stage, hours in sorted(totals.items())}


def bucket_of(days: int) -> str:
    return "current" if days <= 0 else str(dpd_bucket(days))


def _positions(observations: Iterable[DpdObservation], at: datetime) -> dict[str, tuple[str, Decimal]]:
    latest: dict[str, DpdObservation] = {}
    for obs in observations:
        if obs.at <= at and (obs.loan_id not in latest or obs.at >= latest[obs.loan_id].at):
            latest[obs.loan_id] = obs
    return {loan: (bucket_of(o.days_past_due), o.balance) for loan, o in latest.items()}


def roll_rates(
    observations: Sequence[DpdObservation], period_start: datetime, period_end: datetime
) -> dict[str, Decimal | None]:
    """Balance that rolled from bucket k (end of the previous period) into k+1 (end of this period),
    over the balance in bucket k at the end of the previous period."""
    before = _positions(observations, period_start)
    after = _positions(observations, period_end)
    rates: dict[str, Decimal | None] = {}
    for low, high in pairwise(BUCKET_ORDER[1:]):
        base = sum((bal for bucket, bal in before.values() if bucket == low), Decimal(0))
        rolled = sum(
            (
                after[loan][1]
                for loan, (bucket, _) in before.items()
                if bucket == low and after.get(loan, ("",))[0] == high
            ),
            Decimal(0),
        )
        rates[f"{low}->{high}"] = _rate(rolled, base)
    return rates
