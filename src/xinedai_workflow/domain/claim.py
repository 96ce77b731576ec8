"""The one claim computation: what a case's borrower owes on a day, and the 24% cap check.

Every figure a person sees comes from here: the case view and the task detail (``amounts``), the
call script and the reminders (``process_rules.message_context``), the demand letter
(``process_rules.letter_context``), the evidence package's worked computation and the KPI
report's amount overdue at opening. They all start from a *ledger*: the overdue process's data
object ``ledger`` (figures of the last overdue event, payments since, an agreed plan) or, for a
process without one, a ledger read from the case's flat variables (:func:`ledger_of`). The
arithmetic itself (penalty and compound interest, allocation of payments, the cap) is
``domain/interest.py``.

**The 24% check.** Basis: 最高人民法院《全国法院民商事审判工作会议纪要》(法〔2019〕254号, 九民纪要)
Art. 51 — in a financial loan dispute a court reduces, at the borrower's request, the part of the
overdue interest (罚息), compound interest (复利), liquidated damages and other fees claimed together
that exceeds 24% a year in total. The bank's terms count the contractual interest of the overdue
instalment in that total as well (a comprehensive-cost reading: the claim never asks more than
24% a year all-in, whichever way a court reads Art. 51). So:

- *charges* = contractual interest claimed + penalty interest + compound interest + fees, each as
  printed (to the fen), over the whole claim period, paid or not;
- *base* = the overdue principal outstanding on each day of the period (principal-days; a
  payment that reduces the principal reduces the base from that day on);
- *period* = from the day the claimed contractual interest began accruing
  (``interest_period_start``: given by the loan ledger, else implied as interest ÷ daily contract
  interest on the overdue principal) to the computation day; annualised on the product's day-count
  basis (360 unless the contract says 365), like every other rate in the claim;
- *cap* = 24% × principal-days ÷ basis. Above it, the excess is not claimed: the claimable total
  is the outstanding total less the excess (never below the outstanding principal).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xinedai_workflow.domain.buckets import dpd_bucket
from xinedai_workflow.domain.interest import InterestError, compute_claim
from xinedai_workflow.domain.money import ZERO, MoneyError, money_str, parse_rate
from xinedai_workflow.domain.values import as_amount, as_day, as_moment, zone_of

CAP_RULE = "最高人民法院《全国法院民商事审判工作会议纪要》（法〔2019〕254号）第51条及本行借款合同"
CAP_BASE = (
    "contractual interest + penalty + compound interest + fees over the claim period, against "
    "24% a year of the overdue principal outstanding each day, from interest_period_start to as_of"
)
# Civil Code Art. 561 and the 薪e贷 contract: costs first, then the interest-like charges, then principal.
ALLOCATION_ORDER = ("fees", "penalty", "compound", "interest", "principal")
_FIGURE_KEYS = ("overdue_principal", "annual_rate", "due_date")


class ClaimError(ValueError):
    """The variables or the ledger do not describe a claim that can be computed."""


def claim_day(moment: datetime, timezone: Any = None) -> date:
    """The day a claim is computed for at ``moment``: the borrower's local calendar day."""
    return as_moment(moment).astimezone(zone_of(timezone)).date()


# -- the ledger's figures -----------------------------------------------------------------------
def terms_of(source: Mapping[str, Any], product: Mapping[str, Any]) -> dict[str, Any]:
    """The claim's terms: the loan's contract rate and the product's uplift, basis and cap."""
    parse_rate(str(source["annual_rate"]), what="annual_rate")
    return {
        "annual_rate": str(source["annual_rate"]),
        "penalty_uplift": str(product.get("penalty_uplift", "0.5")),
        "day_count_basis": int(product.get("day_count_basis", 360)),
        "cap_annual_rate": str(product.get("cap_annual_rate", "0.24")),
    }


def figures_of(source: Mapping[str, Any], terms: Mapping[str, Any]) -> dict[str, Any]:
    """The overdue figures of an overdue event (or of flat case variables)."""
    figures = {
        "overdue_principal": money_str(as_amount(source["overdue_principal"])),
        "overdue_interest": money_str(as_amount(source.get("overdue_interest") or "0")),
        "due_date": as_day(source["due_date"]).isoformat(),
        "interest_period_start": interest_period_start(source, terms).isoformat(),
        "days_past_due": int(source.get("days_past_due") or 0),
        "reported_at": as_moment(source.get("occurred_at") or f"{as_day(source['due_date'])}T00:00:00+00:00")
        .astimezone(UTC)
        .isoformat(),
    }
    if source.get("fees"):
        figures["fees"] = money_str(as_amount(source["fees"]))
    return figures


def interest_period_start(source: Mapping[str, Any], terms: Mapping[str, Any]) -> date:
    """Where the claimed overdue interest began accruing: the start of the cap check's period.

    The loan ledger may say (``interest_period_start``). Otherwise the overdue interest is taken as
    contract interest on the overdue principal, so its period is interest ÷ daily contract interest;
    without this the cap check would compare a month's interest with a few days of penalty time.
    """
    due = as_day(source["due_date"])
    if source.get("interest_period_start"):
        return min(as_day(source["interest_period_start"]), due)
    principal = as_amount(source["overdue_principal"])
    interest = as_amount(source.get("overdue_interest") or "0")
    rate = parse_rate(str(terms["annual_rate"]), what="annual_rate")
    if principal <= 0 or interest <= 0 or rate <= 0:
        return due
    days = int((interest * int(terms["day_count_basis"]) / (principal * rate)).to_integral_value())
    return due - timedelta(days=min(days, 3660))


def ledger_of(variables: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The case's ledger: the ``ledger`` data object, else one read from the flat variables.

    Flat variables are the overdue event's fields (``overdue_principal``, ``overdue_interest``,
    ``annual_rate``, ``due_date``; optional ``penalty_uplift``, ``day_count_basis``,
    ``cap_annual_rate``, ``fees``, ``interest_period_start``) and an optional ``payments`` list
    (``[{"paid_on" | "paid_at", "amount"}]``, all counted). None when neither is there.
    """
    ledger = variables.get("ledger")
    if isinstance(ledger, Mapping) and isinstance(ledger.get("figures"), Mapping) and ledger["figures"]:
        return ledger
    if not all(k in variables for k in _FIGURE_KEYS):
        return None
    try:
        terms = terms_of(variables, variables)
        figures = {**figures_of(variables, terms), "reported_at": None}
        payments = [_flat_payment(p) for p in _list(variables.get("payments"))]
    except (InterestError, MoneyError, ArithmeticError, ValueError, TypeError, KeyError) as exc:
        raise ClaimError(str(exc)) from exc
    return {
        "loan_id": str(variables.get("loan_id") or ""),
        "terms": terms,
        "figures": figures,
        "payments": [p for p in payments if p is not None],
        "plan": None,
        "receipts": [],
        "closed": False,
    }


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _flat_payment(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, Mapping) or "amount" not in item:
        return None
    when = item.get("paid_at") or item.get("paid_on")
    try:
        paid_at = as_moment(when) if "T" in str(when) else as_moment(f"{as_day(when)}T00:00:00")
    except ValueError:
        return None
    day = as_day(item["paid_on"]) if item.get("paid_on") else paid_at.date()
    return {
        "amount": money_str(as_amount(item["amount"])),
        "paid_at": paid_at.isoformat(),
        "paid_on": str(day),
    }


# -- the claim ----------------------------------------------------------------------------------
def counted_payments(ledger: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Payments after the figures were reported (earlier ones are already in the figures)."""
    reported = ledger["figures"].get("reported_at")
    if reported is None:
        return list(ledger["payments"])
    since = as_moment(reported)
    return [p for p in ledger["payments"] if as_moment(p["paid_at"]) > since]


def claim_on(ledger: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """The itemised claim (penalty and compound interest, 24% cap check) on ``as_of``."""
    fig, terms = ledger["figures"], ledger["terms"]
    due = as_day(fig["due_date"])
    payments = counted_payments(ledger)
    last_paid = max((as_day(p["paid_on"]) for p in payments), default=due)
    arguments = (
        str(fig["overdue_principal"]),
        str(fig["overdue_interest"]),
        due,
        max(as_of, due, last_paid),
        str(terms["annual_rate"]),
        str(terms["penalty_uplift"]),
        int(terms["day_count_basis"]),
        str(terms["cap_annual_rate"]),
        str(fig.get("fees") or "0"),
        tuple((max(due, as_day(p["paid_on"])), str(p["amount"])) for p in payments),
        fig.get("interest_period_start"),
    )
    # One engine step or view asks for the same claim several times (balance, message context,
    # letter); compute_claim is pure, so its result is cached and handed out as a copy.
    return _copied(_claim(*arguments))


def _copied(value: Any) -> Any:
    """A copy of nested dicts and lists (leaves are immutable: str, int, Decimal, date, bool)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


@lru_cache(maxsize=2048)
def _claim(
    principal: str,
    interest: str,
    due: date,
    as_of: date,
    annual_rate: str,
    penalty_uplift: str,
    day_count_basis: int,
    cap_annual_rate: str,
    fees: str,
    payments: tuple[tuple[date, str], ...],
    cap_period_start: Any,
) -> dict[str, Any]:
    claim = compute_claim(
        principal,
        interest,
        due,
        as_of,
        annual_rate,
        penalty_uplift=penalty_uplift,
        day_count_basis=day_count_basis,
        cap_annual_rate=cap_annual_rate,
        fees=fees,
        payments=[{"paid_on": paid_on, "amount": amount} for paid_on, amount in payments],
        cap_period_start=cap_period_start,
        allocation_order=ALLOCATION_ORDER,
    )
    claim["cap"] |= {"rule": CAP_RULE, "base": CAP_BASE}
    claim["allocation_order"] = list(ALLOCATION_ORDER)
    return claim


def balance_of(ledger: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """What the borrower is asked to pay on ``as_of``: the capped claim, or what a plan leaves.

    An overpayment (money no component could take) leaves nothing owed.
    """
    plan = ledger.get("plan")
    if plan:
        since = [p for p in ledger["payments"] if as_day(p["paid_on"]) >= as_day(plan["agreed_on"])]
        owed = max(ZERO, as_amount(plan["total"]) - sum((as_amount(p["amount"]) for p in since), ZERO))
        return {"as_of": as_of.isoformat(), "basis": "plan", "owed": money_str(owed)}
    claim = claim_on(ledger, as_of)
    owed = ZERO if as_amount(claim["unapplied"]) > 0 else as_amount(claim["cap"]["capped_claim"])
    out = claim["outstanding"]
    return {
        "as_of": claim["as_of"],
        "basis": "claim",
        "owed": money_str(owed),
        "principal": out["principal"],
        "interest": out["interest"],
        "penalty": out["penalty"],
        "compound": out["compound"],
        "cap_exceeded": bool(claim["cap"]["exceeds"]),
    }


def amounts_of(ledger: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """The figures every surface shows (view, task, call script, letter, evidence), as strings."""
    claim = claim_on(ledger, as_of)
    balance = balance_of(ledger, as_of)
    out, cap = claim["outstanding"], claim["cap"]
    paid = dict(claim["paid"])
    dpd = int(claim["days_overdue"])
    return {
        "as_of": claim["as_of"],
        "days_past_due": dpd,
        "bucket": dpd_bucket(dpd).value,
        "principal": out["principal"],
        "interest": out["interest"],
        "penalty": out["penalty"],
        "compound": out["compound"],
        "fees": out["fees"],
        "total": out["total"],
        "paid": paid,
        "paid_total": money_str(sum((as_amount(v) for v in paid.values()), ZERO)),
        "unapplied": claim["unapplied"],
        "allocation_order": list(ALLOCATION_ORDER),
        "cap_exceeded": bool(cap["exceeds"]),
        "claimable_total": cap["capped_claim"],
        "cap": {
            "rule": CAP_RULE,
            "cap_annual_rate_pct": cap["cap_annual_rate_pct"],
            "period_from": cap["period_start"],
            "period_to": cap["period_end"],
            "cap_amount": cap["cap_amount"],
            "charges": cap["charges"],
            "charges_total": cap["total_charges"],
            "annualised_rate_pct": cap["annualised_rate_pct"],
            "excess": cap["excess"],
        },
        "basis": balance["basis"],
        "owed": balance["owed"],
    }


def case_amounts(variables: Mapping[str, Any], moment: datetime) -> dict[str, Any] | None:
    """``amounts_of`` the case's ledger on the borrower's local day at ``moment``; None without one."""
    try:
        ledger = ledger_of(variables)
        if ledger is None:
            return None
        borrower = variables.get("borrower")
        zone = borrower.get("timezone") if isinstance(borrower, Mapping) else None
        day = max(claim_day(moment, zone), as_day(ledger["figures"]["due_date"]))
        return amounts_of(ledger, day)
    except (ClaimError, InterestError, MoneyError, ArithmeticError, ValueError, TypeError, KeyError):
        return None


def owed_at_opening(variables: Mapping[str, Any], opened_at: datetime) -> Decimal | None:
    """The claimable total on the day a case opened (the KPI report's amount overdue at open)."""
    amounts = case_amounts(variables, opened_at)
    return None if amounts is None else as_amount(amounts["claimable_total"])
