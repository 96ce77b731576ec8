"""Penalty interest (罚息) and compound interest (复利) on an overdue loan, with the 24% cap check.

Rules (PBOC 银发〔2003〕251号): overdue principal bears the contract rate × (1 + uplift), uplift
30%–50%; unpaid interest compounds at that penalty rate. Day count 算头不算尾: a range
[start, end) has ``(end - start).days`` days, so interest runs from the due date to the day before
the computation date. Amounts are accrued at full precision as ``base × rate × days / basis``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Any, Literal

from xinedai_workflow.domain.money import (
    ZERO,
    MoneyError,
    allocate_rounded,
    format_rate,
    money_str,
    parse_money,
    parse_rate,
    to_fen,
)

ALGORITHM_VERSION = "1.0"
_PREC = 50


class InterestError(ValueError):
    """Invalid terms, position or payments for an interest computation."""


class Component(StrEnum):
    """Balance components a payment can settle."""

    FEES = "fees"
    PENALTY = "penalty"
    COMPOUND = "compound"
    INTEREST = "interest"
    PRINCIPAL = "principal"


# Civil Code Art. 561 and usual PRC loan contracts: costs, then interest-like charges, then principal.
DEFAULT_ALLOCATION_ORDER: tuple[Component, ...] = tuple(Component)

_PRESENTATION_ORDER = (
    Component.PRINCIPAL,
    Component.INTEREST,
    Component.PENALTY,
    Component.COMPOUND,
    Component.FEES,
)


class ItemKind(StrEnum):
    """Kind of an accrual line: penalty on principal or compound on unpaid interest."""

    PENALTY = "penalty"
    COMPOUND = "compound"

    @property
    def label_zh(self) -> str:
        """Chinese label for letters."""
        return "罚息" if self is ItemKind.PENALTY else "复利"


def _dec(value: object, what: str, *, money: bool) -> Decimal:
    try:
        return parse_money(value, what=what) if money else parse_rate(value, what=what)
    except MoneyError as exc:
        raise InterestError(str(exc)) from exc


def _as_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise InterestError(f"{what}: {value!r} is not an ISO date") from exc
    raise InterestError(f"{what}: expected a date, got {type(value).__name__}")


@dataclass(frozen=True)
class ProductTerms:
    """Product parameters. Rates are annual fractions (0.063 = 6.3%); strings are accepted."""

    annual_rate: Decimal
    penalty_uplift: Decimal = Decimal("0.5")
    day_count_basis: int = 360
    cap_annual_rate: Decimal = Decimal("0.24")

    def __post_init__(self) -> None:
        for name in ("annual_rate", "penalty_uplift", "cap_annual_rate"):
            object.__setattr__(self, name, _dec(getattr(self, name), name, money=False))
        if not Decimal("0.3") <= self.penalty_uplift <= Decimal("0.5"):
            raise InterestError("penalty_uplift must be between 0.3 and 0.5 (银发〔2003〕251号)")
        if self.day_count_basis not in (360, 365):
            raise InterestError("day_count_basis must be 360 or 365")
        if self.cap_annual_rate <= 0:
            raise InterestError("cap_annual_rate must be positive")

    def penalty_rate_for(self, annual_rate: Decimal) -> Decimal:
        """Penalty rate for a contract rate: ``annual_rate × (1 + uplift)``."""
        return annual_rate * (1 + self.penalty_uplift)

    @property
    def penalty_rate(self) -> Decimal:
        """Annual penalty rate at the contract rate."""
        return self.penalty_rate_for(self.annual_rate)


@dataclass(frozen=True)
class Payment:
    """A repayment received on ``paid_on``."""

    paid_on: date
    amount: Decimal
    reference: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "paid_on", _as_date(self.paid_on, "paid_on"))
        object.__setattr__(self, "amount", _dec(self.amount, "payment amount", money=True))
        if self.amount <= 0:
            raise InterestError("payment amount must be positive")


@dataclass(frozen=True)
class RateChange:
    """A new contract rate from ``effective_from`` on (e.g. an LPR repricing)."""

    effective_from: date
    annual_rate: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective_from", _as_date(self.effective_from, "effective_from"))
        object.__setattr__(self, "annual_rate", _dec(self.annual_rate, "annual_rate", money=False))


@dataclass(frozen=True)
class LoanPosition:
    """Overdue amounts at the due date and what happened until ``as_of``.

    ``fees`` are charges other than interest claimed with the debt (they count towards the cap).
    ``cap_period_start`` is where the period of the claimed ``overdue_interest`` begins (e.g. the
    start of the overdue instalment's interest period); it defaults to the due date, which
    overstates the annualised charge and therefore never under-reports a cap breach.
    """

    overdue_principal: Decimal
    overdue_interest: Decimal
    due_date: date
    as_of: date
    payments: tuple[Payment, ...] = ()
    fees: Decimal = ZERO
    rate_changes: tuple[RateChange, ...] = ()
    cap_period_start: date | None = None

    def __post_init__(self) -> None:
        for name in ("overdue_principal", "overdue_interest", "fees"):
            object.__setattr__(self, name, _dec(getattr(self, name), name, money=True))
        for name in ("due_date", "as_of"):
            object.__setattr__(self, name, _as_date(getattr(self, name), name))
        object.__setattr__(self, "payments", tuple(self.payments))
        object.__setattr__(self, "rate_changes", tuple(self.rate_changes))
        if self.as_of < self.due_date:
            raise InterestError("as_of must not be before due_date")
        for p in self.payments:
            if not self.due_date <= p.paid_on <= self.as_of:
                raise InterestError(f"payment on {p.paid_on} is outside [due_date, as_of]")
        if self.cap_period_start is not None:
            start = _as_date(self.cap_period_start, "cap_period_start")
            object.__setattr__(self, "cap_period_start", start)
            if start > self.due_date:
                raise InterestError("cap_period_start must not be after due_date")


@dataclass(frozen=True)
class InterestItem:
    """One accrual line: ``amount = base × annual_rate × days / basis`` over [start, end)."""

    start: date
    end: date
    days: int
    kind: ItemKind
    base: Decimal
    annual_rate: Decimal
    amount: Decimal
    group: int = 0  # index of the payment-delimited period, for presentation rounding


@dataclass(frozen=True)
class PaymentApplication:
    """How one payment was applied to the balances."""

    payment: Payment
    allocated: Mapping[Component, Decimal]
    unapplied: Decimal


@dataclass(frozen=True)
class CapCheck:
    """Interest + compound + penalty + fees against ``cap_annual_rate`` of the principal."""

    cap_annual_rate: Decimal
    period_start: date
    period_end: date
    principal_days: Decimal
    cap_amount: Decimal
    charges: Mapping[str, Decimal]
    total_charges: Decimal
    annualised_rate: Decimal | None
    exceeds: bool
    excess: Decimal
    claim_before_cap: Decimal
    capped_claim: Decimal


@dataclass(frozen=True)
class ClaimResult:
    """Outcome of :func:`compute_penalty_interest`; amounts at full precision."""

    terms: ProductTerms
    position: LoanPosition
    items: tuple[InterestItem, ...]
    payments: tuple[PaymentApplication, ...]
    accrued: Mapping[ItemKind, Decimal]
    paid: Mapping[Component, Decimal]
    outstanding: Mapping[Component, Decimal]
    unapplied: Decimal
    cap: CapCheck
    days_overdue: int = 0

    @property
    def total_outstanding(self) -> Decimal:
        """Sum of the outstanding components rounded to the fen (the amount a borrower can pay)."""
        return sum((to_fen(v) for v in self.outstanding.values()), ZERO)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view: money as fen strings, rates as fraction strings plus ``*_pct``.

        Item amounts are rounded so that the lines add up to the printed totals.
        """
        items = [_jsonable(i) | {"kind_zh": i.kind.label_zh} for i in self.items]
        for kind in ItemKind:
            for group in {i.group for i in self.items if i.kind is kind}:
                idx = [n for n, i in enumerate(self.items) if i.kind is kind and i.group == group]
                for n, amount in zip(idx, allocate_rounded([self.items[n].amount for n in idx]), strict=True):
                    items[n]["amount"] = money_str(amount)
        t = self.terms
        return {
            "algorithm": f"xinedai_workflow.domain.interest v{ALGORITHM_VERSION}",
            "terms": _jsonable(t) | _jsonable({"penalty_rate": t.penalty_rate}),
            **_jsonable(self.position, skip=("payments", "rate_changes")),
            "days_overdue": self.days_overdue,
            "items": items,
            "payments": [
                _jsonable(a.payment)
                | {"allocated": _jsonable(a.allocated), "unapplied": money_str(a.unapplied)}
                for a in self.payments
            ],
            "accrued": _jsonable(self.accrued)
            | {"total": money_str(sum((to_fen(v) for v in self.accrued.values()), ZERO))},
            "paid": _jsonable(self.paid),
            "outstanding": _jsonable(self.outstanding) | {"total": money_str(self.total_outstanding)},
            "unapplied": money_str(self.unapplied),
            "cap": _jsonable(self.cap),
        }


def _jsonable(obj: Any, skip: Sequence[str] = ()) -> Any:
    """Dataclass/mapping to plain JSON types; ``*rate`` Decimals stay exact and gain a ``*_pct``."""
    if is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in skip and f.name != "group"}
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = str(key.value if isinstance(key, StrEnum) else key)
            if name.endswith(("rate", "uplift")) and (value is None or isinstance(value, Decimal)):
                places = 2 if name == "annualised_rate" else 4
                out[name] = None if value is None else str(value)
                out[f"{name}_pct"] = None if value is None else format_rate(value, places=places)
            elif name == "start" or name == "end":
                out["from" if name == "start" else "to"] = _jsonable(value)
            else:
                out[name] = _jsonable(value)
        return out
    if isinstance(obj, Decimal):
        return money_str(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    return obj.value if isinstance(obj, StrEnum) else obj


def _month_starts(start: date, end: date) -> Iterable[date]:
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        first = date(year, month, 1)
        if first >= end:
            return
        yield first


def compute_penalty_interest(
    position: LoanPosition,
    terms: ProductTerms,
    *,
    allocation_order: Sequence[Component | str] = DEFAULT_ALLOCATION_ORDER,
    itemise: Literal["changes", "month"] = "changes",
) -> ClaimResult:
    """Accrue penalty and compound interest from the due date to ``as_of`` and check the cap.

    Lines are split where the principal, the unpaid interest or the rate changes, and also at
    every calendar month when ``itemise="month"``. At each payment the accrued charges are
    crystallised to the fen, since a payment settles amounts stated in fen.
    """
    order = tuple(Component(c) for c in allocation_order)
    if sorted(order) != sorted(Component):
        raise InterestError("allocation_order must list every component exactly once")
    if itemise not in ("changes", "month"):
        raise InterestError("itemise must be 'changes' or 'month'")
    pos = position
    payments = sorted(pos.payments, key=lambda p: p.paid_on)
    changes = sorted(pos.rate_changes, key=lambda r: r.effective_from)
    cuts = {pos.due_date, pos.as_of, *(p.paid_on for p in payments)}
    cuts |= {r.effective_from for r in changes if pos.due_date < r.effective_from < pos.as_of}
    if itemise == "month":
        cuts |= set(_month_starts(pos.due_date, pos.as_of))
    bounds = sorted(cuts)

    bal = {
        Component.FEES: pos.fees,
        Component.PENALTY: ZERO,
        Component.COMPOUND: ZERO,
        Component.INTEREST: pos.overdue_interest,
        Component.PRINCIPAL: pos.overdue_principal,
    }
    pending = {ItemKind.PENALTY: ZERO, ItemKind.COMPOUND: ZERO}
    accrued = {ItemKind.PENALTY: ZERO, ItemKind.COMPOUND: ZERO}
    paid = dict.fromkeys(Component, ZERO)
    items: list[InterestItem] = []
    applications: list[PaymentApplication] = []
    unapplied = ZERO
    principal_days = ZERO
    group = 0
    with localcontext() as ctx:
        ctx.prec = _PREC
        for start, end in zip(bounds, [*bounds[1:], None], strict=True):
            todays = [p for p in payments if p.paid_on == start]
            if todays:
                for kind in ItemKind:
                    settled = to_fen(pending[kind])
                    bal[Component(kind.value)] += settled
                    accrued[kind] += settled
                    pending[kind] = ZERO
                group += 1
            for p in todays:
                remaining = p.amount
                allocated: dict[Component, Decimal] = {}
                for comp in order:
                    take = min(remaining, bal[comp])
                    if take > 0:
                        allocated[comp] = take
                        bal[comp] -= take
                        paid[comp] += take
                        remaining -= take
                unapplied += remaining
                applications.append(PaymentApplication(p, allocated, remaining))
            if end is None:
                break
            days = (end - start).days
            rate = next(
                (r.annual_rate for r in reversed(changes) if r.effective_from <= start), terms.annual_rate
            )
            prate = terms.penalty_rate_for(rate)
            principal_days += bal[Component.PRINCIPAL] * days
            for kind, base in (
                (ItemKind.PENALTY, bal[Component.PRINCIPAL]),
                (ItemKind.COMPOUND, bal[Component.INTEREST]),
            ):
                if base > 0 and days > 0:
                    amount = base * prate * days / terms.day_count_basis
                    pending[kind] += amount
                    items.append(InterestItem(start, end, days, kind, base, prate, amount, group))
        for kind in ItemKind:
            accrued[kind] += pending[kind]
            bal[Component(kind.value)] += pending[kind]
        cap = _cap_check(pos, terms, accrued, bal, principal_days)
    return ClaimResult(
        terms=terms,
        position=pos,
        items=tuple(items),
        payments=tuple(applications),
        accrued=accrued,
        paid=paid,
        outstanding={c: bal[c] for c in _PRESENTATION_ORDER},
        unapplied=unapplied,
        cap=cap,
        days_overdue=(pos.as_of - pos.due_date).days,
    )


def _cap_check(
    pos: LoanPosition,
    terms: ProductTerms,
    accrued: Mapping[ItemKind, Decimal],
    outstanding: Mapping[Component, Decimal],
    principal_days: Decimal,
) -> CapCheck:
    period_start = pos.cap_period_start or pos.due_date
    principal_days += pos.overdue_principal * (pos.due_date - period_start).days
    basis = terms.day_count_basis
    cap_amount = terms.cap_annual_rate * principal_days / basis
    # The check is a statement printed in letters, so it works on the fen amounts it prints.
    charges = {
        "interest": pos.overdue_interest,
        "penalty": to_fen(accrued[ItemKind.PENALTY]),
        "compound": to_fen(accrued[ItemKind.COMPOUND]),
        "fees": pos.fees,
    }
    total = sum(charges.values(), ZERO)
    annualised = (total * basis / principal_days).quantize(Decimal("1e-8")) if principal_days > 0 else None
    excess = max(ZERO, to_fen(total) - to_fen(cap_amount))
    claim = sum((to_fen(v) for v in outstanding.values()), ZERO)
    reducible = sum((to_fen(v) for c, v in outstanding.items() if c is not Component.PRINCIPAL), ZERO)
    return CapCheck(
        cap_annual_rate=terms.cap_annual_rate,
        period_start=period_start,
        period_end=pos.as_of,
        principal_days=principal_days,
        cap_amount=cap_amount,
        charges=charges,
        total_charges=total,
        annualised_rate=annualised,
        exceeds=excess > 0,
        excess=excess,
        claim_before_cap=claim,
        capped_claim=claim - min(excess, reducible),
    )


def compute_claim(
    overdue_principal: str | Decimal | int,
    overdue_interest: str | Decimal | int,
    due_date: str | date,
    as_of: str | date,
    annual_rate: str | Decimal,
    *,
    penalty_uplift: str | Decimal = "0.5",
    day_count_basis: int = 360,
    cap_annual_rate: str | Decimal = "0.24",
    fees: str | Decimal | int = "0",
    payments: Sequence[Mapping[str, Any]] = (),
    rate_changes: Sequence[Mapping[str, Any]] = (),
    cap_period_start: str | date | None = None,
    allocation_order: Sequence[str] | None = None,
    itemise: Literal["changes", "month"] = "changes",
) -> dict[str, Any]:
    """Script-friendly wrapper: plain strings/dates in, :meth:`ClaimResult.to_dict` out.

    ``payments`` items are ``{"paid_on": "2026-03-01", "amount": "500.00", "reference": "..."}``;
    ``rate_changes`` items are ``{"effective_from": ..., "annual_rate": ...}``.
    """
    terms = ProductTerms(
        annual_rate=_dec(annual_rate, "annual_rate", money=False),
        penalty_uplift=_dec(penalty_uplift, "penalty_uplift", money=False),
        day_count_basis=day_count_basis,
        cap_annual_rate=_dec(cap_annual_rate, "cap_annual_rate", money=False),
    )
    position = LoanPosition(
        overdue_principal=_dec(overdue_principal, "overdue_principal", money=True),
        overdue_interest=_dec(overdue_interest, "overdue_interest", money=True),
        due_date=_as_date(due_date, "due_date"),
        as_of=_as_date(as_of, "as_of"),
        payments=tuple(Payment(p["paid_on"], p["amount"], str(p.get("reference", ""))) for p in payments),
        fees=_dec(fees, "fees", money=True),
        rate_changes=tuple(RateChange(r["effective_from"], r["annual_rate"]) for r in rate_changes),
        cap_period_start=None if cap_period_start is None else _as_date(cap_period_start, "cap_period_start"),
    )
    order = allocation_order or DEFAULT_ALLOCATION_ORDER
    return compute_penalty_interest(position, terms, allocation_order=order, itemise=itemise).to_dict()
