"""Synthetic borrowers: the portfolio drawn from the model, and each borrower's choices.

Every borrower has their own `random.Random` seeded from (seed, loan index), so a borrower makes
the same draws whichever variant they run through and in whatever order the engine touches the
cases (common random numbers: the difference between two variants is not drowned in noise).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .model import BehaviourModel

FEN = Decimal("0.01")
CALL_OUTCOMES = ("no_answer", "wrong_party", "dispute", "hardship", "promise_to_pay", "refused")


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    """One key drawn by weight (keys in sorted order, so the draw does not depend on YAML order)."""
    keys = sorted(weights)
    total = sum(float(weights[k]) for k in keys)
    if total <= 0:
        return keys[0]
    x = rng.random() * total
    for key in keys:
        x -= float(weights[key])
        if x < 0:
            return key
    return keys[-1]


def money(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass
class Borrower:
    """One synthetic loan and its borrower."""

    index: int
    loan_id: str
    timezone: str
    rng: random.Random
    event: dict[str, Any]
    arrives_at: datetime
    overdue_amount: Decimal
    paid: Decimal = Decimal(0)
    extra: dict[str, Any] = field(default_factory=dict)
    plan_scheduled: bool = False
    letters_answered: set[str] = field(default_factory=set)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


def draw_portfolio(model: BehaviourModel, cases: int, seed: int, start: datetime) -> list[Borrower]:
    """The `cases` borrowers of one replication (same seed → same portfolio)."""
    p = model.portfolio
    segments = p.get("segments") or {}
    borrowers = []
    for i in range(cases):
        rng = random.Random(f"xinedai-sim:{seed}:{i}")
        bucket = _bucket(rng, p["dpd"])
        dpd = rng.randint(*bucket)
        low, high = p["overdue_principal"]
        overdue_principal = money(rng.uniform(low, high))
        rate = weighted(rng, p["annual_rate"])
        multiple = rng.uniform(*(p.get("principal_multiple") or [4, 12]))
        principal = max(money(overdue_principal * Decimal(str(multiple))), overdue_principal)
        interest = money(overdue_principal * Decimal(rate) * dpd / 360)
        timezone = weighted(rng, p["timezones"])
        arrival_hours = int(p.get("arrival_days", 1)) * 24
        arrives_at = start + timedelta(hours=rng.randrange(arrival_hours)) if arrival_hours > 24 else start
        due = (arrives_at.astimezone(ZoneInfo(timezone)).date()) - timedelta(days=dpd)
        loan_id = f"SIM-{seed}-{i:06d}"
        event: dict[str, Any] = {
            "event_id": f"sim-overdue-{loan_id}",
            "loan_id": loan_id,
            "product": "xinedai",
            "borrower": {
                "id": f"B-{seed}-{i:06d}",
                "name": f"模拟借款人{i}",
                "phone": f"139{i % 10**8:08d}",
                "email": f"borrower{i}@example.com",
                "address": "北京市朝阳区建国路1号",
                "timezone": timezone,
            },
            "principal": str(principal),
            "overdue_principal": str(overdue_principal),
            "overdue_interest": str(interest),
            "annual_rate": rate,
            "days_past_due": dpd,
            "due_date": due.isoformat(),
            "occurred_at": arrives_at.isoformat(),
        }
        extra: dict[str, Any] = {}
        if segments.get("declared_situation"):
            extra["declared_situation"] = weighted(rng, segments["declared_situation"])
        if segments.get("prior_overdue_count"):
            extra["prior_overdue_count"] = int(weighted(rng, segments["prior_overdue_count"]))
        borrower = Borrower(
            index=i,
            loan_id=loan_id,
            timezone=timezone,
            rng=rng,
            event=event,
            arrives_at=arrives_at,
            overdue_amount=overdue_principal + interest,
            extra=extra,
        )
        borrowers.append(borrower)
    return borrowers


def _bucket(rng: random.Random, buckets: list[dict[str, Any]]) -> tuple[int, int]:
    weights = {str(i): float(b["weight"]) for i, b in enumerate(buckets)}
    chosen = buckets[int(weighted(rng, weights))]["range"]
    return int(chosen[0]), int(chosen[1])


@dataclass(frozen=True)
class PlannedPayment:
    """A payment the borrower will make: `amount` None means "everything owed at that moment"."""

    at: datetime
    loan_id: str
    amount: Decimal | None
    reason: str


class Behaviour:
    """The borrower side of the model: what they answer on a call and when they pay."""

    def __init__(self, model: BehaviourModel) -> None:
        self.model = model
        b = model.borrower
        self.payment_hours = tuple(b.get("payment_hours") or (8, 21))

    def call_outcome(self, borrower: Borrower, now: datetime) -> str:
        """no_answer, or what the answered call ends with."""
        hour = borrower.local(now).hour
        if borrower.rng.random() >= self.model.answer_probability(hour):
            return "no_answer"
        x = borrower.rng.random()
        for name, outcome in (
            ("wrong_party", "wrong_party"),
            ("dispute", "dispute"),
            ("hardship", "hardship"),
            ("promise", "promise_to_pay"),
        ):
            x -= self.model.p(name)
            if x < 0:
                return outcome
        return "refused"

    def _moment_on(self, borrower: Borrower, day: date) -> datetime:
        low, high = self.payment_hours
        hour = borrower.rng.randint(low, max(low, high - 1))
        minute = borrower.rng.randrange(60)
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(borrower.timezone))
        return local.astimezone(ZoneInfo("UTC"))

    def promise(self, borrower: Borrower, now: datetime, owed: Decimal) -> tuple[Decimal, date]:
        """The promised amount and date of an answered call that ends with a promise."""
        days = self.model.borrower.get("promise_days") or [1, 7]
        on = borrower.local(now).date() + timedelta(days=borrower.rng.randint(*days))
        if borrower.rng.random() < self.model.p("promise_full", 1.0):
            return owed, on
        return self._part(borrower, owed), on

    def _part(self, borrower: Borrower, owed: Decimal) -> Decimal:
        low, high = self.model.borrower.get("part_share") or [0.2, 0.6]
        return max(money(owed * Decimal(str(borrower.rng.uniform(low, high)))), FEN)

    def promise_payment(
        self, borrower: Borrower, now: datetime, amount: Decimal, on: date, full: bool
    ) -> PlannedPayment | None:
        """The payment that keeps the promise (on a day up to the promised date), or None."""
        if borrower.rng.random() >= self.model.p("keep_promise"):
            return None
        today = borrower.local(now).date()
        span = max((on - today).days, 0)
        day = today + timedelta(days=borrower.rng.randint(min(1, span), span)) if span else today
        at = max(self._moment_on(borrower, day), now + timedelta(minutes=30))
        return PlannedPayment(at, borrower.loan_id, None if full else amount, "promise_kept")

    def unprompted(self, borrower: Borrower, day_start: datetime) -> PlannedPayment | None:
        """A payment nobody asked for today, or None."""
        if borrower.rng.random() >= self.model.p("unprompted_payment_daily"):
            return None
        at = max(self._moment_on(borrower, borrower.local(day_start).date()), day_start)
        full = borrower.rng.random() < self.model.p("unprompted_full", 1.0)
        return PlannedPayment(at, borrower.loan_id, None if full else Decimal(-1), "unprompted")

    def letter(self, borrower: Borrower, now: datetime) -> PlannedPayment | None:
        """The answer to a delivered demand letter: a payment some days later, or None."""
        cfg = self.model.borrower.get("letter_response") or {}
        if borrower.rng.random() >= float(cfg.get("pay", 0)):
            return None
        day = borrower.local(now).date() + timedelta(days=borrower.rng.randint(*(cfg.get("days") or [2, 14])))
        full = borrower.rng.random() < float(cfg.get("full", 1.0))
        return PlannedPayment(
            self._moment_on(borrower, day), borrower.loan_id, None if full else Decimal(-1), "letter"
        )

    def instalments(self, borrower: Borrower, schedule: list[dict[str, Any]]) -> list[PlannedPayment]:
        """Payments of an agreed plan: each instalment on its due date while the borrower keeps it."""
        payments = []
        for item in schedule:
            if borrower.rng.random() >= self.model.p("keep_instalment"):
                break
            day = date.fromisoformat(str(item["due_date"])[:10])
            payments.append(
                PlannedPayment(
                    self._moment_on(borrower, day),
                    borrower.loan_id,
                    money(Decimal(str(item["amount"]))),
                    "instalment",
                )
            )
        return payments

    def part_of(self, borrower: Borrower, owed: Decimal) -> Decimal:
        return self._part(borrower, owed)

    def income(self, borrower: Borrower) -> Decimal:
        low, high = self.model.borrower.get("income") or [2500, 12000]
        return money(borrower.rng.uniform(low, high))
