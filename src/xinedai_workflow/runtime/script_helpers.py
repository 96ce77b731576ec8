"""The functions and names diagram scripts, conditions, timers and DMN cells may use.

Everything here is safe to call from the sandbox: pure functions of their arguments (and of the
engine step's injected time). The README lists them for diagram authors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import isodate

from ..domain import diagram_steps, process_rules
from ..domain.buckets import bucket_info
from ..domain.claim import claim_day
from ..domain.evidence import build_evidence_manifest
from ..domain.interest import compute_claim
from ..domain.money import money_str, parse_money
from ..domain.plans import build_plan
from ..domain.templates import TemplateRenderer
from ..engine import ProcessDefinition
from ..engine.engine_time import engine_now

TEMPLATE_DIR = "templates/"


def now() -> datetime:
    """The engine step's time (UTC), from the injected clock."""
    return engine_now()


def today(timezone: str | None = None) -> date:
    """The engine step's date: in UTC, or in ``timezone`` — ``today(borrower["timezone"])`` is the
    borrower's calendar day, the day the claim, letters and deadlines are dated (as the case view)."""
    moment = engine_now()
    return moment.date() if timezone is None else claim_day(moment, timezone)


def parse_date(value: str | date) -> date:
    """An ISO date (or the date part of an ISO datetime)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_datetime(value: str | datetime) -> datetime:
    """An ISO datetime; naive values are taken as UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(value: date | datetime) -> str:
    """ISO-8601 text of a date or datetime (for timer expressions)."""
    return value.isoformat()


def add_days(value: str | date | datetime, days: int) -> str:
    """ISO text of a date/datetime plus `days` (timer-friendly)."""
    if isinstance(value, datetime):
        return (value + timedelta(days=days)).isoformat()
    return (parse_date(value) + timedelta(days=days)).isoformat()


def duration(value: str) -> timedelta:
    """An ISO-8601 duration ("P3D") as a timedelta."""
    result = isodate.parse_duration(value)
    if not isinstance(result, timedelta):
        raise ValueError("durations with years or months have no fixed length; use days")
    return result


def money(value: Any) -> Decimal:
    """A money amount as Decimal (strings like "1234.50"; floats are refused)."""
    return parse_money(value, allow_negative=True)


def fen(value: Any) -> str:
    """A Decimal amount as a string rounded half-up to the fen ("1234.50")."""
    return money_str(Decimal(str(value)))


def round_fen(value: Decimal) -> Decimal:
    """Round half-up to 0.01 (presentation only)."""
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def days_between(start: str | date, end: str | date) -> int:
    """Whole days from `start` to `end`."""
    return (parse_date(end) - parse_date(start)).days


def get(mapping: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """`mapping[key]`, or `default` when the mapping or key is missing."""
    if not isinstance(mapping, Mapping):
        return default
    return mapping.get(key, default)


SCRIPT_HELPERS: dict[str, Any] = {
    "Decimal": Decimal,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "UTC": UTC,
    "now": now,
    "today": today,
    "parse_date": parse_date,
    "parse_datetime": parse_datetime,
    "iso": iso,
    "add_days": add_days,
    "duration": duration,
    "days_between": days_between,
    "money": money,
    "fen": fen,
    "round_fen": round_fen,
    "get": get,
    "bucket_info": bucket_info,
    "compute_claim": compute_claim,
    "build_plan": build_plan,
    "build_evidence_manifest": build_evidence_manifest,
    "open_ledger": process_rules.open_ledger,
    "record_payment": process_rules.record_payment,
    "record_update": process_rules.record_update,
    "record_plan": process_rules.record_plan,
    "record_receipt": process_rules.record_receipt,
    "close_ledger": process_rules.close_ledger,
    "claim_on": process_rules.claim_on,
    "balance_on": process_rules.balance_on,
    "paid_since": process_rules.paid_since,
    "promise_status": process_rules.promise_status,
    "plan_progress": process_rules.plan_progress,
    "deadline": process_rules.deadline,
    "in_calling_hours": process_rules.in_calling_hours,
    "calling_hours_open": process_rules.calling_hours_open,
    "message_context": process_rules.message_context,
    "letter_context": process_rules.letter_context,
    "notice_record": process_rules.notice_record,
    "evidence_package": process_rules.evidence_package,
    "review_sample": process_rules.review_sample,
    # the named steps of the overdue diagram (domain/diagram_steps.py)
    "case_record": diagram_steps.case_record,
    "bank_record": diagram_steps.bank_record,
    "loan_terms": diagram_steps.loan_terms,
    "open_case_ledger": diagram_steps.open_case_ledger,
    "dpd_on": diagram_steps.dpd_on,
    "call_notice": diagram_steps.call_notice,
    "unreachable_after": diagram_steps.unreachable_after,
    "call_result_of": diagram_steps.call_result_of,
    "after_no_contact": diagram_steps.after_no_contact,
    "hardship_facts": diagram_steps.hardship_facts,
    "promise_record": diagram_steps.promise_record,
    "for_pdf": diagram_steps.for_pdf,
    "delivery_note_of": diagram_steps.delivery_note_of,
    "plan_from_form": diagram_steps.plan_from_form,
    "plan_confirmation_context": diagram_steps.plan_confirmation_context,
    "instalment_state": diagram_steps.instalment_state,
    "next_instalment_deadline": diagram_steps.next_instalment_deadline,
    "mediation_report_context": diagram_steps.mediation_report_context,
    "paid_outcome": diagram_steps.paid_outcome,
    "settles": diagram_steps.settles,
}


class _VersionTemplates:
    """The templates of one deployed version (``templates/*.j2`` in its bundle), compiled once."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        texts = {
            name[len(TEMPLATE_DIR) :]: content.decode("utf-8")
            for name, content in files.items()
            if name.startswith(TEMPLATE_DIR) and name.endswith(".j2")
        }
        self.renderer = TemplateRenderer.from_mapping(texts)

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render the version's template `name` ("sms_reminder" finds "sms_reminder.txt.j2")."""
        return self.renderer.render(name, context)


_version_templates: dict[int, _VersionTemplates] = {}


def version_helpers(definition: ProcessDefinition) -> dict[str, Any]:
    """Helpers bound to the files of a case's pinned version: ``render_template(name, context)``."""
    cached = _version_templates.get(id(definition.files))
    if cached is None or cached.files is not definition.files:
        if len(_version_templates) > 256:
            _version_templates.clear()
        cached = _version_templates[id(definition.files)] = _VersionTemplates(definition.files)
    return {"render_template": cached.render}


VERSION_HELPER_NAMES = frozenset({"render_template"})
# the keys of the template contexts helpers build (the deploy check reads templates against them)
CONTEXT_KEYS: dict[str, frozenset[str]] = {
    "message_context": process_rules.MESSAGE_CONTEXT_KEYS,
    "letter_context": process_rules.LETTER_CONTEXT_KEYS,
}
HELPER_NAMES = frozenset(SCRIPT_HELPERS) | VERSION_HELPER_NAMES
