"""The overdue process's ledger: what the diagrams call to keep amounts, payments and plans straight.

The ledger is one JSON-friendly dict held in the process's data object ``ledger``. Only the
process's event handlers change it (payment received, ledger update, plan agreed, delivery
receipt); every stage reads it. Functions here never mutate their input: they return a new
ledger. Money is a string on the way in and out and a ``Decimal`` inside.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from xinedai_workflow.domain.buckets import bucket_info, days_past_due
from xinedai_workflow.domain.claim import amounts_of, balance_of, claim_on, figures_of, terms_of
from xinedai_workflow.domain.evidence import build_evidence_manifest, canonical_json
from xinedai_workflow.domain.money import ZERO, money_str
from xinedai_workflow.domain.plans import Instalment, PlanKind, RepaymentPlan, plan_status
from xinedai_workflow.domain.values import DEFAULT_TIMEZONE, as_amount, as_day, as_moment, zone_of

NOTICE_KINDS = {"sms": "sms", "email": "email", "registered_mail": "demand_letter", "call": "call"}


# -- opening and updating the ledger -------------------------------------------------------------
def open_ledger(case: Mapping[str, Any], terms: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The ledger of a new case from the overdue event's variables and the product terms."""
    ledger: dict[str, Any] = {
        "loan_id": str(case["loan_id"]),
        "terms": terms_of(case, terms),
        "figures": {},
        "payments": [],
        "plan": None,
        "receipts": [],
        "closed": False,
        # the borrower's zone: a payment counts on the borrower's calendar day (as claims are dated)
        "timezone": str(case.get("timezone") or DEFAULT_TIMEZONE),
    }
    ledger["figures"] = figures_of(case, ledger["terms"])
    return _rebalance(ledger, today)


def record_payment(ledger: Mapping[str, Any], payment: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Add a payment (the ``payment_received`` payload) and recompute what is owed."""
    out = copy.deepcopy(dict(ledger))
    event_id = str(payment.get("event_id") or "")
    if event_id and any(p["event_id"] == event_id for p in out["payments"]):
        return _rebalance(out, today)  # the same payment delivered twice counts once
    paid_at = as_moment(payment.get("paid_at") or datetime.combine(today, time(), UTC))
    out["payments"].append(
        {
            "event_id": event_id,
            "amount": money_str(as_amount(payment["amount"])),
            "paid_at": paid_at.astimezone(UTC).isoformat(),
            "paid_on": paid_at.astimezone(zone_of(out.get("timezone"))).date().isoformat(),
            "channel": str(payment.get("channel") or ""),
        }
    )
    return _rebalance(out, today)


def record_update(ledger: Mapping[str, Any], update: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Take the loan ledger's new figures (an ``overdue_updated`` payload); later payments still count."""
    out = copy.deepcopy(dict(ledger))
    if update.get("annual_rate"):
        out["terms"]["annual_rate"] = str(update["annual_rate"])
    out["figures"] = figures_of(update, out["terms"])
    return _rebalance(out, today)


def record_plan(ledger: Mapping[str, Any], plan: Mapping[str, Any] | None, today: date) -> dict[str, Any]:
    """Agree a repayment plan (owed = plan total less payments from today), or end it (None)."""
    out = copy.deepcopy(dict(ledger))
    out["plan"] = None if plan is None else {**copy.deepcopy(dict(plan)), "agreed_on": today.isoformat()}
    return _rebalance(out, today)


def record_receipt(ledger: Mapping[str, Any], receipt: Mapping[str, Any]) -> dict[str, Any]:
    """Keep a delivery receipt (``notice_delivered``): request id, reference, carrier, delivered date."""
    out = copy.deepcopy(dict(ledger))
    entry = {
        "request_id": str(receipt.get("request_id") or ""),
        "channel": str(receipt.get("channel") or ""),
        "reference": str(receipt.get("reference") or ""),
        "carrier": str(receipt.get("carrier") or ""),
        "delivered_on": as_day(receipt["delivered_at"]).isoformat() if receipt.get("delivered_at") else None,
    }
    out["receipts"] = [r for r in out["receipts"] if r["request_id"] != entry["request_id"]] + [entry]
    return out


def close_ledger(ledger: Mapping[str, Any]) -> dict[str, Any]:
    """Mark collection over (later payments are still recorded, nothing is escalated)."""
    return {**copy.deepcopy(dict(ledger)), "closed": True}


# -- what is owed ----------------------------------------------------------------------------------
def _rebalance(ledger: dict[str, Any], today: date) -> dict[str, Any]:
    ledger["balance"] = balance_of(ledger, today)
    ledger["paid_total"] = money_str(sum((as_amount(p["amount"]) for p in ledger["payments"]), ZERO))
    ledger["paid_in_full"] = as_amount(ledger["balance"]["owed"]) <= 0
    return ledger


def balance_on(ledger: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """What is owed on ``as_of`` (the stored balance is as of the ledger's last change)."""
    return _rebalance(copy.deepcopy(dict(ledger)), as_of)["balance"]


def paid_since(ledger: Mapping[str, Any], since: Any) -> str:
    """Total paid on or after the date ``since``."""
    start = as_day(since)
    return money_str(
        sum((as_amount(p["amount"]) for p in ledger["payments"] if as_day(p["paid_on"]) >= start), ZERO)
    )


def promise_status(
    ledger: Mapping[str, Any], promise: Mapping[str, Any], today: date, grace_days: int
) -> str:
    """``kept`` once the promised amount was paid since the promise, ``broken`` after date + grace."""
    if as_amount(paid_since(ledger, promise["made_on"])) >= as_amount(promise["amount"]):
        return "kept"
    if today > as_day(promise["date"]) + timedelta(days=int(grace_days)):
        return "broken"
    return "pending"


def plan_progress(ledger: Mapping[str, Any], today: date, grace_days: int) -> dict[str, Any]:
    """The plan's monitoring view (paid / due / missed instalments) from payments since it was agreed."""
    plan = ledger["plan"]
    schedule = RepaymentPlan(
        PlanKind(plan["kind"]),
        as_amount(plan["total"]),
        tuple(
            Instalment(
                int(i["number"]), as_day(i["due_date"]), as_amount(i["amount"]), int(i.get("stage", 1))
            )
            for i in plan["instalments"]
        ),
    )
    since = [p for p in ledger["payments"] if as_day(p["paid_on"]) >= as_day(plan["agreed_on"])]
    payments = [{"paid_on": p["paid_on"], "amount": p["amount"]} for p in since]
    return plan_status(schedule, payments, today, grace_days).to_dict()


# -- messages, letters and evidence ---------------------------------------------------------------
def deadline(day: Any, days: int, timezone: Any = None) -> str:
    """ISO end of the borrower's local day ``day + days`` (a timer ``timeDate``)."""
    end = datetime.combine(as_day(day) + timedelta(days=int(days) + 1), time(), zone_of(timezone))
    return end.astimezone(UTC).isoformat()


def _clock(text: str) -> time:
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


def in_calling_hours(now: datetime, timezone: Any, start: str, end: str) -> bool:
    """Whether ``now`` is within [start, end) of the borrower's local day ("08:00", "21:00")."""
    local = now.astimezone(zone_of(timezone)).time()
    return _clock(start) <= local < _clock(end)


def calling_hours_open(now: datetime, timezone: Any, start: str) -> str:
    """ISO moment the borrower's next calling hours begin (a timer ``timeDate``)."""
    zone = zone_of(timezone)
    local = now.astimezone(zone)
    opening = datetime.combine(local.date(), _clock(start), zone)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), _clock(start), zone)
    return opening.astimezone(UTC).isoformat()


def contract_no(case: Mapping[str, Any]) -> str:
    """The contract number on file, or the loan id."""
    return str(case.get("contract_no") or case["loan_id"])


MESSAGE_CONTEXT_KEYS = frozenset(
    {
        "bank_name",
        "hotline",
        "product_name",
        "agent_name",
        "borrower_name",
        "contract_no",
        "contract_tail",
        "due_date",
        "days_overdue",
        "as_of",
        "amount_owed",
        "overdue_principal",
        "overdue_interest",
        "penalty",
        "compound",
        "bucket",
    }
)
LETTER_BANK_KEYS = ("bank_name", "bank_branch", "bank_address", "bank_postcode", "hotline", "product_name")
# every key letter_context may give (the bank's keys and contract_date only when known)
LETTER_CONTEXT_KEYS = frozenset(
    {
        *LETTER_BANK_KEYS,
        "borrower_name",
        "borrower_address",
        "contract_no",
        "loan_amount",
        "letter_no",
        "letter_date",
        "respond_by",
        "claim",
        "contract_date",
    }
)


def message_context(
    case: Mapping[str, Any], ledger: Mapping[str, Any], bank: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """What the SMS, e-mail and call-script templates need, with today's amounts."""
    balance, fig = balance_on(ledger, today), ledger["figures"]
    number = contract_no(case)
    return {
        "bank_name": bank.get("bank_name", ""),
        "hotline": bank.get("hotline", ""),
        "product_name": bank.get("product_name", "薪e贷"),
        "agent_name": "",
        "borrower_name": case["borrower"]["name"],
        "contract_no": number,
        "contract_tail": number[-4:],
        "due_date": fig["due_date"],
        "days_overdue": max(days_past_due(as_day(fig["due_date"]), today), 0),
        "as_of": today.isoformat(),
        "amount_owed": balance["owed"],
        "overdue_principal": balance.get("principal", fig["overdue_principal"]),
        "overdue_interest": balance.get("interest", fig["overdue_interest"]),
        "penalty": balance.get("penalty", "0.00"),
        "compound": balance.get("compound", "0.00"),
        "bucket": bucket_info(max(days_past_due(as_day(fig["due_date"]), today), 0))["bucket"],
    }


def letter_context(
    case: Mapping[str, Any],
    ledger: Mapping[str, Any],
    bank: Mapping[str, Any],
    today: date,
    respond_days: int,
    seq: int,
) -> dict[str, Any]:
    """The demand letter's context: addressee, contract, the itemised claim and the reply date."""
    claim = claim_on(ledger, today)
    context = {key: bank[key] for key in LETTER_BANK_KEYS if bank.get(key)}
    context.update(
        {
            "borrower_name": case["borrower"]["name"],
            "borrower_address": case["borrower"].get("address") or "",
            "contract_no": contract_no(case),
            "loan_amount": money_str(as_amount(case["principal"])),
            "letter_no": f"CS-{today:%Y%m%d}-{case['loan_id']}-{seq:02d}",
            "letter_date": today.isoformat(),
            "respond_by": (today + timedelta(days=int(respond_days))).isoformat(),
            "claim": claim,
        }
    )
    if case.get("contract_date"):
        context["contract_date"] = str(case["contract_date"])
    return context


def notice_record(
    channel: str, request: Mapping[str, Any] | None, sent_on: date, text: str, template: str
) -> dict[str, Any]:
    """What a stage remembers of a message it queued (joined with delivery receipts for evidence)."""
    return {
        "request_id": str((request or {}).get("request_id") or ""),
        "channel": channel,
        "kind": NOTICE_KINDS[channel],
        "sent_on": sent_on.isoformat(),
        "template": template,
        "text": text,
    }


def evidence_package(
    case: Mapping[str, Any], ledger: Mapping[str, Any], notices: Sequence[Mapping[str, Any]], today: date
) -> dict[str, Any]:
    """The litigation evidence manifest: every document with its source and hash, and what is missing."""
    receipts = {r["request_id"]: r for r in ledger["receipts"]}
    borrower = case["borrower"]
    facts = {
        "loan_id": ledger["loan_id"],
        "borrower_id": {
            "reference": str(borrower.get("id", "")),
            "system": "customer information system (KYC)",
        },
        "contract": {"reference": contract_no(case), "system": "薪e贷 e-contract platform"},
        "disbursement": {
            "reference": f"DISB-{case['loan_id']}",
            "system": "core banking (loan disbursement)",
        },
        "repayment_history": {
            "reference": f"{case['loan_id']} repayments to {today.isoformat()}",
            "system": "loan ledger",
            "date": today.isoformat(),
            "content": canonical_json({"figures": ledger["figures"], "payments": ledger["payments"]}),
        },
        "notices": [
            {
                "message_id": n["request_id"] or f"{n['channel']}-{n['sent_on']}",
                "kind": n["kind"],
                "sent_on": n["sent_on"],
                "delivery_proof": receipts.get(n["request_id"], {}).get("reference") or n.get("proof"),
                "carrier": receipts.get(n["request_id"], {}).get("carrier", ""),
                "delivered_on": receipts.get(n["request_id"], {}).get("delivered_on"),
                "content": n.get("text"),
            }
            for n in notices
        ],
        "computation": claim_on(ledger, today),
        "computed_on": today.isoformat(),
    }
    # The claimed figures beside the manifest: the same as the computation document's, and the
    # same as the letter's and the case view's on that day (domain/claim.py).
    return {**build_evidence_manifest(facts, today), "claim": amounts_of(ledger, today)}


def review_sample(loan_id: str) -> int:
    """A stable number 0–99 per loan, for sampling cases into a retrospective review."""
    return int(hashlib.sha256(str(loan_id).encode("utf-8")).hexdigest()[:8], 16) % 100
