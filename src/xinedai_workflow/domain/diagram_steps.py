"""The named steps the overdue diagram calls, so its scripts stay one-line calls a reader follows.

Each function computes one thing a stage needs (the case's records at open, the call's notice,
what to do after an unanswered call, the plan from the mediator's form, the report to the
mediation body, ...). They are pure: the same arguments give the same result, nothing is read
from outside, inputs are never mutated. The diagram reaches them through the sandbox's helper
table (`runtime/script_helpers.py`); the README lists them for diagram authors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from xinedai_workflow.domain.plans import build_plan
from xinedai_workflow.domain.process_rules import deadline, notice_record, open_ledger
from xinedai_workflow.domain.values import as_day

# what an answered call's form outcome means for the informal stage's routing
CALL_RESULTS = {
    "promise_to_pay": "promise",
    "hardship": "hardship",
    "dispute": "dispute",
    "claims_paid": "dispute",
    "refused": "refused",
}
# the stages after which a payment in full cures the case (later it settles it)
CURING_STAGES = frozenset({"assessment", "informal"})


# -- opening the case -----------------------------------------------------------------------------
def case_record(
    loan_id: str,
    borrower: Mapping[str, Any],
    principal: Any,
    annual_rate: Any,
    contract_no: Any = None,
    contract_date: Any = None,
) -> dict[str, Any]:
    """The case's identity as letters and evidence quote it (contract fields only when known)."""
    case: dict[str, Any] = {
        "loan_id": loan_id,
        "borrower": dict(borrower),
        "principal": principal,
        "annual_rate": annual_rate,
    }
    if contract_no is not None:
        case["contract_no"] = contract_no
    if contract_date is not None:
        case["contract_date"] = contract_date
    return case


def bank_record(
    bank_name: str, bank_branch: str, bank_address: str, bank_postcode: str, hotline: str, product_name: str
) -> dict[str, str]:
    """The bank's identity from `product_terms.dmn`, as every message names it."""
    return {
        "bank_name": bank_name,
        "bank_branch": bank_branch,
        "bank_address": bank_address,
        "bank_postcode": bank_postcode,
        "hotline": hotline,
        "product_name": product_name,
    }


def loan_terms(penalty_uplift: Any, day_count_basis: Any, cap_annual_rate: Any) -> dict[str, Any]:
    """The claim's terms from `product_terms.dmn`: penalty uplift, day-count basis, the rate cap."""
    return {
        "penalty_uplift": penalty_uplift,
        "day_count_basis": day_count_basis,
        "cap_annual_rate": cap_annual_rate,
    }


def open_case_ledger(
    case: Mapping[str, Any],
    terms: Mapping[str, Any],
    overdue_principal: Any,
    overdue_interest: Any,
    due_date: Any,
    days_past_due: Any,
    occurred_at: Any,
    today: date,
) -> dict[str, Any]:
    """The ledger of a new case from the overdue event's figures (see `process_rules.open_ledger`)."""
    figures = {
        "loan_id": case["loan_id"],
        "annual_rate": case["annual_rate"],
        "overdue_principal": overdue_principal,
        "overdue_interest": overdue_interest,
        "due_date": due_date,
        "days_past_due": days_past_due,
        "occurred_at": occurred_at,
        "timezone": case["borrower"]["timezone"],
    }
    return open_ledger(figures, terms, today)


def dpd_on(ledger: Mapping[str, Any], day: Any) -> int:
    """Days past due on ``day`` (from the due date the ledger holds)."""
    return (as_day(day) - as_day(ledger["figures"]["due_date"])).days


# -- informal contact -----------------------------------------------------------------------------
def call_notice(outcome: str, notes: Any, number: int, day: date) -> dict[str, Any]:
    """The notice a call leaves: its outcome (and the collector's notes) as the text."""
    summary = f"{outcome}: {notes}" if notes else outcome
    return notice_record("call", {"request_id": f"call:{number}"}, day, summary, "call_script")


def unreachable_after(outcome: str, call_attempts: int, unreachable: bool) -> bool:
    """Whether the borrower counts as unreachable: a wrong party answered from the second call on."""
    return call_attempts >= 2 if outcome == "wrong_party" else bool(unreachable)


def call_result_of(outcome: str) -> str:
    """The route a call's outcome takes: promise, hardship, dispute, refused or no_contact."""
    return CALL_RESULTS.get(outcome, "no_contact")


def after_no_contact(
    call_attempts: int, max_call_attempts: int, dpd_now: int, formal_dpd_threshold: int
) -> str:
    """After a call that reached nobody: ``retry``, or the escalation reason (``dpd_threshold``
    once the DPD reached the formal threshold, ``no_contact`` once the attempts are used up)."""
    if int(dpd_now) >= int(formal_dpd_threshold):
        return "dpd_threshold"
    if int(call_attempts) >= int(max_call_attempts):
        return "no_contact"
    return "retry"


def hardship_facts(income: Any, family_burden: Any, other_debts: Any) -> dict[str, Any]:
    """What the borrower declared about hardship on the call (for the mediator)."""
    return {"income": income, "family_burden": family_burden, "other_debts": other_debts}


def promise_record(promised_amount: Any, promised_date: Any, made_on: date) -> dict[str, Any]:
    """The promise to pay the promise watch checks payments against."""
    return {"amount": promised_amount, "date": promised_date, "made_on": made_on.isoformat()}


# -- formal demand --------------------------------------------------------------------------------
def for_pdf(letter: Mapping[str, Any]) -> dict[str, Any]:
    """The demand letter's context for the PDF rendering (the same letter, laid out for print)."""
    return {**letter, "for_pdf": True}


def delivery_note_of(ledger: Mapping[str, Any]) -> str:
    """For the legal officer: whether the registered letter was delivered, with its mail number."""
    delivered = [r for r in ledger["receipts"] if r["channel"] == "registered_mail"]
    return f"已妥投，邮件号 {delivered[-1]['reference']}" if delivered else "尚未收到妥投回执"


# -- negotiation and mediation ---------------------------------------------------------------------
def plan_from_form(
    plan_kind: str,
    owed: Any,
    first_due_date: Any,
    months: int,
    monthly_amount: Any = None,
    first_share: Any = None,
) -> dict[str, Any]:
    """The repayment schedule of the plan the mediator recorded (see `plans.build_plan`): a longer
    term over ``months``, a reduced instalment of ``monthly_amount``, or a first share then months."""
    stages: Sequence[Mapping[str, Any]] | None = None
    if plan_kind == "staged":
        stages = [{"share": first_share, "count": 1}, {"count": months}]
    monthly = monthly_amount if plan_kind == "reduced_instalment" else None
    return build_plan(plan_kind, owed, first_due_date, months=months, monthly_amount=monthly, stages=stages)


def plan_confirmation_context(
    message: Mapping[str, Any], plan: Mapping[str, Any], mediation_body: Any
) -> dict[str, Any]:
    """The plan-confirmation e-mail's context: the usual message context, the plan, the mediator."""
    return {**message, "plan": plan, "mediation_body": mediation_body or ""}


def instalment_state(progress: Mapping[str, Any]) -> str:
    """Where the plan stands: ``completed``, ``missed`` (an instalment is past due + grace) or
    ``waiting`` for the next instalment."""
    if progress["completed"]:
        return "completed"
    return "missed" if int(progress["missed_count"]) > 0 else "waiting"


def next_instalment_deadline(progress: Mapping[str, Any], grace_days: int, timezone: Any) -> str | None:
    """When the next instalment counts as missed (its due date + grace), or None when none is due."""
    due = progress["next_due"]
    return deadline(due["due_date"], grace_days, timezone) if due else None


def mediation_report_context(
    bank: Mapping[str, Any],
    mediation_body: Any,
    loan_id: str,
    borrower: Mapping[str, Any],
    plan: Mapping[str, Any],
    progress: Mapping[str, Any],
    as_of: date,
) -> dict[str, Any]:
    """The progress report to the mediation body: the plan and how it is being kept."""
    return {
        "bank_name": bank["bank_name"],
        "hotline": bank["hotline"],
        "mediation_body": mediation_body,
        "loan_id": loan_id,
        "borrower_name": borrower["name"],
        "plan": plan,
        "progress": progress,
        "as_of": as_of.isoformat(),
    }


# -- closing ---------------------------------------------------------------------------------------
def paid_outcome(journey: Sequence[str]) -> str:
    """A payment in full's outcome: ``cured`` before the formal stage, ``settled`` from it on."""
    return "cured" if not journey or journey[-1] in CURING_STAGES else "settled"


def settles(ledger: Mapping[str, Any]) -> bool:
    """Whether the ledger's latest change paid everything while the case was still collecting."""
    return bool(ledger["paid_in_full"]) and not ledger["closed"]
