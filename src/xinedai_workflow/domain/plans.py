"""Repayment plans (term extension, reduced instalment, staged) and their monitoring.

Every schedule sums exactly to the total owed; the rounding remainder goes to the last instalment
(of each stage, for staged plans). Instalments fall due monthly on the first due date's day of
month, clamped to the month's end (31 Jan → 28/29 Feb → 31 Mar).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from xinedai_workflow.domain.money import FEN, ZERO, MoneyError, money_str, parse_money, parse_rate, to_fen

MAX_TERM_MONTHS = 60  # individual instalment agreements: at most 5 years (credit-card rules Art. 70)


class PlanError(ValueError):
    """A repayment plan that cannot be built or is inconsistent."""


class PlanKind(StrEnum):
    """The plan types the mediation stage can agree on."""

    TERM_EXTENSION = "term_extension"
    REDUCED_INSTALMENT = "reduced_instalment"
    STAGED = "staged"


def _money(value: object, what: str) -> Decimal:
    try:
        amount = parse_money(value, what=what)
    except MoneyError as exc:
        raise PlanError(str(exc)) from exc
    if amount < FEN:
        raise PlanError(f"{what} must be at least 0.01")
    return amount.quantize(FEN)


def _date(value: object, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PlanError(f"{what}: {value!r} is not an ISO date") from exc


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """``start`` moved by ``months`` calendar months on ``anchor_day`` (default its own day), clamped."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def monthly_due_dates(first_due_date: date, count: int) -> list[date]:
    """``count`` monthly due dates starting at ``first_due_date``, anchored on its day of month."""
    return [add_months(first_due_date, k, first_due_date.day) for k in range(count)]


@dataclass(frozen=True)
class Instalment:
    """One instalment of a plan; ``stage`` numbers stages of a staged plan from 1."""

    number: int
    due_date: date
    amount: Decimal
    stage: int = 1


@dataclass(frozen=True)
class RepaymentPlan:
    """A validated schedule of monthly instalments summing exactly to ``total``."""

    kind: PlanKind
    total: Decimal
    instalments: tuple[Instalment, ...]

    def __post_init__(self) -> None:
        if not self.instalments:
            raise PlanError("a plan needs at least one instalment")
        if len(self.instalments) > MAX_TERM_MONTHS:
            raise PlanError(f"a plan may have at most {MAX_TERM_MONTHS} monthly instalments")
        if sum((i.amount for i in self.instalments), ZERO) != self.total:
            raise PlanError("instalments do not add up to the total")
        if any(i.amount < FEN or i.amount != to_fen(i.amount) for i in self.instalments):
            raise PlanError("every instalment must be a positive amount in fen")
        dates = [i.due_date for i in self.instalments]
        if any(a >= b for a, b in pairwise(dates)):
            raise PlanError("due dates must be strictly increasing")

    @property
    def first_due_date(self) -> date:
        """Due date of the first instalment."""
        return self.instalments[0].due_date

    @property
    def last_due_date(self) -> date:
        """Due date of the last instalment."""
        return self.instalments[-1].due_date

    @property
    def term_months(self) -> int:
        """Number of monthly instalments."""
        return len(self.instalments)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view with money as strings."""
        return {
            "kind": self.kind.value,
            "total": money_str(self.total),
            "term_months": self.term_months,
            "first_due_date": self.first_due_date.isoformat(),
            "last_due_date": self.last_due_date.isoformat(),
            "instalments": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "amount": money_str(i.amount),
                    "stage": i.stage,
                }
                for i in self.instalments
            ],
        }


def _split(amount: Decimal, count: int, what: str) -> list[Decimal]:
    """Equal fen parts, rounded down, with the remainder in the last part."""
    if count < 1:
        raise PlanError(f"{what}: the number of instalments must be at least 1")
    regular = (amount / count).quantize(FEN, rounding=ROUND_DOWN)
    if regular < FEN:
        raise PlanError(
            f"{what}: {money_str(amount)} cannot be split into {count} instalments of at least 0.01"
        )
    return [regular] * (count - 1) + [amount - regular * (count - 1)]


def _check_term(count: int) -> None:
    if count > MAX_TERM_MONTHS:
        raise PlanError(f"the plan would need {count} months; the maximum is {MAX_TERM_MONTHS}")


def _plan(
    kind: PlanKind, total: Decimal, first_due: date, amounts: Sequence[tuple[Decimal, int]]
) -> RepaymentPlan:
    _check_term(len(amounts))
    dates = monthly_due_dates(first_due, len(amounts))
    instalments = tuple(
        Instalment(n, d, amount, stage)
        for n, (d, (amount, stage)) in enumerate(zip(dates, amounts, strict=True), 1)
    )
    return RepaymentPlan(kind, total, instalments)


def term_extension_plan(total: Decimal | str, months: int, first_due_date: date | str) -> RepaymentPlan:
    """Spread ``total`` over ``months`` equal monthly instalments (remainder in the last one)."""
    amount = _money(total, "total")
    if months < 1:
        raise PlanError("months must be at least 1")
    _check_term(months)
    parts = _split(amount, months, "term extension")
    return _plan(
        PlanKind.TERM_EXTENSION, amount, _date(first_due_date, "first_due_date"), [(p, 1) for p in parts]
    )


def reduced_instalment_plan(
    total: Decimal | str, monthly_amount: Decimal | str, first_due_date: date | str
) -> RepaymentPlan:
    """Pay a fixed lower ``monthly_amount`` until ``total`` is repaid; the last instalment is smaller."""
    amount = _money(total, "total")
    monthly = _money(monthly_amount, "monthly_amount")
    count = int((amount / monthly).to_integral_value(rounding=ROUND_CEILING))
    _check_term(count)
    parts = [min(monthly, amount)] * (count - 1) + [amount - monthly * (count - 1)]
    return _plan(
        PlanKind.REDUCED_INSTALMENT, amount, _date(first_due_date, "first_due_date"), [(p, 1) for p in parts]
    )


@dataclass(frozen=True)
class Stage:
    """A stage of a staged plan: ``amount`` or ``share`` of the total, paid in ``count`` instalments.

    The last stage takes the remainder: give it no amount/share, or one that matches the remainder.
    """

    count: int = 1
    amount: Decimal | None = None
    share: Decimal | None = None


def staged_plan(total: Decimal | str, stages: Sequence[Stage], first_due_date: date | str) -> RepaymentPlan:
    """E.g. 20% now then the rest in K instalments: ``[Stage(1, share=0.2), Stage(K)]``."""
    amount = _money(total, "total")
    if not stages:
        raise PlanError("a staged plan needs at least one stage")
    amounts: list[tuple[Decimal, int]] = []
    allocated = ZERO
    for number, stage in enumerate(stages, 1):
        if stage.amount is not None and stage.share is not None:
            raise PlanError(f"stage {number}: give amount or share, not both")
        last = number == len(stages)
        if stage.share is not None:
            share = parse_rate(stage.share, what=f"stage {number} share")
            if not ZERO < share <= 1:
                raise PlanError(f"stage {number}: share must be in (0, 1]")
            stage_amount = to_fen(amount * share)
        elif stage.amount is not None:
            stage_amount = _money(stage.amount, f"stage {number} amount")
        elif last:
            stage_amount = amount - allocated
        else:
            raise PlanError(f"stage {number}: only the last stage may omit amount and share")
        if last:
            rest = amount - allocated
            # A share is rounded per stage, so allow a fen per stage of slack before calling it a mismatch.
            slack = ZERO if stage.amount is not None else FEN * len(stages)
            if abs(stage_amount - rest) > slack:
                raise PlanError(f"the last stage must take the remainder {money_str(rest)}")
            stage_amount = rest
        if stage_amount < FEN:
            raise PlanError(f"stage {number}: nothing left to pay in this stage")
        allocated += stage_amount
        if allocated > amount:
            raise PlanError(f"stages exceed the total by stage {number}")
        amounts += [(part, number) for part in _split(stage_amount, stage.count, f"stage {number}")]
    return _plan(PlanKind.STAGED, amount, _date(first_due_date, "first_due_date"), amounts)


class InstalmentState(StrEnum):
    """Where an instalment stands on the status date."""

    PAID = "paid"
    DUE = "due"  # fallen due, still within the grace days
    MISSED = "missed"
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class InstalmentStatus:
    """Status of one instalment; payments settle instalments oldest first."""

    instalment: Instalment
    state: InstalmentState
    paid_amount: Decimal
    outstanding: Decimal
    paid_on: date | None
    late: bool


@dataclass(frozen=True)
class PlanStatus:
    """Monitoring view of a plan on ``as_of`` (reported to the mediator)."""

    as_of: date
    instalments: tuple[InstalmentStatus, ...]
    paid_total: Decimal
    outstanding_total: Decimal
    overdue_amount: Decimal
    overpaid: Decimal
    adherence: Decimal | None  # instalments paid on time / instalments whose deadline passed

    @property
    def missed(self) -> tuple[InstalmentStatus, ...]:
        """Instalments past their grace period and not fully paid."""
        return tuple(s for s in self.instalments if s.state is InstalmentState.MISSED)

    @property
    def next_due(self) -> Instalment | None:
        """The oldest instalment not fully paid."""
        return next((s.instalment for s in self.instalments if s.state is not InstalmentState.PAID), None)

    @property
    def completed(self) -> bool:
        """Whether every instalment is paid."""
        return all(s.state is InstalmentState.PAID for s in self.instalments)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view with money as strings."""
        nxt = self.next_due
        return {
            "as_of": self.as_of.isoformat(),
            "paid_total": money_str(self.paid_total),
            "outstanding_total": money_str(self.outstanding_total),
            "overdue_amount": money_str(self.overdue_amount),
            "overpaid": money_str(self.overpaid),
            "missed_count": len(self.missed),
            "completed": self.completed,
            "in_default": bool(self.missed),
            "next_due": None if nxt is None else {"number": nxt.number, "due_date": nxt.due_date.isoformat()},
            "adherence": None if self.adherence is None else str(self.adherence),
            "instalments": [
                {
                    "number": s.instalment.number,
                    "due_date": s.instalment.due_date.isoformat(),
                    "amount": money_str(s.instalment.amount),
                    "state": s.state.value,
                    "paid_amount": money_str(s.paid_amount),
                    "outstanding": money_str(s.outstanding),
                    "paid_on": None if s.paid_on is None else s.paid_on.isoformat(),
                    "late": s.late,
                }
                for s in self.instalments
            ],
        }


def _payment(p: Any) -> tuple[date, Decimal]:
    if isinstance(p, Mapping):
        return _date(p["paid_on"], "paid_on"), _money(p["amount"], "payment amount")
    if isinstance(p, tuple):
        return _date(p[0], "paid_on"), _money(p[1], "payment amount")
    return _date(p.paid_on, "paid_on"), _money(p.amount, "payment amount")


def plan_status(
    plan: RepaymentPlan, payments: Iterable[Any], as_of: date | str, grace_days: int = 0
) -> PlanStatus:
    """Which instalments are paid, due (within ``grace_days``), missed or upcoming on ``as_of``.

    ``payments`` are ``(date, amount)`` tuples, ``{"paid_on", "amount"}`` mappings or objects with
    those attributes; those after ``as_of`` are ignored.
    """
    today = _date(as_of, "as_of")
    if grace_days < 0:
        raise PlanError("grace_days must not be negative")
    received = sorted((p for p in map(_payment, payments) if p[0] <= today), key=lambda p: p[0])
    paid_total = sum((amount for _, amount in received), ZERO)
    statuses: list[InstalmentStatus] = []
    cumulative_due = ZERO
    on_time = deadline_passed = 0
    for inst in plan.instalments:
        before = cumulative_due
        cumulative_due += inst.amount
        paid_amount = min(inst.amount, max(ZERO, paid_total - before))
        paid_on, running = None, ZERO
        for day, amount in received:
            running += amount
            if running >= cumulative_due:
                paid_on = day
                break
        deadline = inst.due_date + timedelta(days=grace_days)
        if paid_on is not None:
            state = InstalmentState.PAID
        elif inst.due_date > today:
            state = InstalmentState.UPCOMING
        else:
            state = InstalmentState.DUE if today <= deadline else InstalmentState.MISSED
        late = paid_on is not None and paid_on > deadline
        if deadline < today or (paid_on is not None and not late):
            deadline_passed += 1
            on_time += paid_on is not None and not late
        statuses.append(InstalmentStatus(inst, state, paid_amount, inst.amount - paid_amount, paid_on, late))
    return PlanStatus(
        as_of=today,
        instalments=tuple(statuses),
        paid_total=min(paid_total, plan.total),
        outstanding_total=max(ZERO, plan.total - paid_total),
        overdue_amount=sum((s.outstanding for s in statuses if s.state is InstalmentState.MISSED), ZERO),
        overpaid=max(ZERO, paid_total - plan.total),
        adherence=(Decimal(on_time) / deadline_passed).quantize(Decimal("0.0001"))
        if deadline_passed
        else None,
    )


def build_plan(
    kind: str,
    total: str | Decimal,
    first_due_date: str | date,
    *,
    months: int | None = None,
    monthly_amount: str | Decimal | None = None,
    stages: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Script-friendly builder returning :meth:`RepaymentPlan.to_dict`.

    ``kind`` is ``term_extension`` (needs ``months``), ``reduced_instalment`` (``monthly_amount``)
    or ``staged`` (``stages``: ``[{"share": "0.2"}, {"count": 12}]``).
    """
    plan_kind = PlanKind(kind)
    if plan_kind is PlanKind.TERM_EXTENSION:
        if months is None:
            raise PlanError("term_extension needs months")
        plan = term_extension_plan(total, months, first_due_date)
    elif plan_kind is PlanKind.REDUCED_INSTALMENT:
        if monthly_amount is None:
            raise PlanError("reduced_instalment needs monthly_amount")
        plan = reduced_instalment_plan(total, monthly_amount, first_due_date)
    else:
        if not stages:
            raise PlanError("staged needs stages")
        parsed = [Stage(int(s.get("count", 1)), s.get("amount"), s.get("share")) for s in stages]
        plan = staged_plan(total, parsed, first_due_date)
    return plan.to_dict()
