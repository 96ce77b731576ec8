"""Extracts KPI facts from case rows and their history, and computes the KPIs (domain/kpis.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from ..clock import Clock
from ..db.models import Case, HistoryEntry
from ..db.session import Database
from ..domain import kpis
from ..domain.claim import owed_at_opening
from ..domain.strategy import two_proportion_test
from ..errors import Invalid

FACT_ACTIONS = ("case_started", "task_completed", "message_received", "message_buffered", "stage_entered")


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _Facts:
    """Facts of one process key's cases, read from history up to the end of the period."""

    def __init__(self) -> None:
        self.opened: dict[str, kpis.CaseFacts] = {}
        self.payments: list[kpis.PaymentFact] = []
        self.promises: list[kpis.PromiseFact] = []
        self.calls: list[kpis.CallFact] = []
        self.visits: list[kpis.StageVisit] = []
        self.observations: list[kpis.DpdObservation] = []
        self._payment_ids: set[str] = set()
        self._open_visit: dict[str, tuple[str, datetime]] = {}
        self.variant: dict[str, str] = {}

    def add(self, case: Case, entry: HistoryEntry) -> None:
        data = entry.data if isinstance(entry.data, dict) else {}
        case_id = str(case.id)
        if entry.action == "case_started":
            variables = data.get("variables") or {}
            self._observe(case.loan_id, entry.at, variables)
            # what the borrower owed the day the case opened: the same claim the case view showed
            overdue = owed_at_opening(variables, entry.at) if isinstance(variables, dict) else None
            if overdue is None:
                overdue = _money(variables.get("overdue_amount"))
            if overdue is None:
                overdue = (_money(variables.get("overdue_principal")) or Decimal(0)) + (
                    _money(variables.get("overdue_interest")) or Decimal(0)
                )
            self.opened[case_id] = kpis.CaseFacts(case_id, entry.at, case.ended_at, case.outcome, overdue)
            self.variant[case_id] = case.variant or "none"
        elif entry.action in ("message_received", "message_buffered"):
            payload = data.get("payload") or {}
            if data.get("name") == "payment_received":
                message_id = _text(data.get("message_id"))
                amount = _money(payload.get("amount"))
                if amount is not None and message_id not in self._payment_ids:
                    self._payment_ids.add(message_id)
                    self.payments.append(kpis.PaymentFact(case_id, entry.at, amount))
            elif data.get("name") == "overdue_updated":
                self._observe(case.loan_id, entry.at, payload)
        elif entry.action == "task_completed":
            form = data.get("data") or {}
            outcome = _text(form.get("outcome"))
            if outcome in kpis.CALL_OUTCOMES:
                self.calls.append(kpis.CallFact(case_id, entry.at, outcome))
            promised = _date(form.get("promised_date"))
            if outcome == "promise_to_pay" and promised is not None:
                self.promises.append(
                    kpis.PromiseFact(case_id, entry.at, promised, _money(form.get("promised_amount")))
                )
        elif entry.action == "stage_entered":
            previous = self._open_visit.pop(case_id, None)
            if previous is not None:
                self.visits.append(kpis.StageVisit(case_id, previous[0], previous[1], entry.at))
            stage = _text(data.get("to"))
            if stage and stage != "closed":
                self._open_visit[case_id] = (stage, entry.at)

    def _observe(self, loan_id: str, at: datetime, values: dict[str, Any]) -> None:
        days = values.get("days_past_due")
        if not isinstance(days, int):
            return
        balance = _money(values.get("overdue_amount"))
        if balance is None:
            balance = (_money(values.get("overdue_principal")) or Decimal(0)) + (
                _money(values.get("overdue_interest")) or Decimal(0)
            )
        self.observations.append(kpis.DpdObservation(loan_id, at, days, balance))

    def close_visits(self) -> None:
        for case_id, (stage, entered) in self._open_visit.items():
            self.visits.append(kpis.StageVisit(case_id, stage, entered, None))


def _fmt(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


class ReportService:
    """GET /reports/kpis."""

    def __init__(self, db: Database, clock: Clock, process_key: str) -> None:
        self.db = db
        self.clock = clock
        self.process_key = process_key

    def kpis(
        self, start: datetime | None, end: datetime | None, process_key: str | None, by: str | None = None
    ) -> dict[str, Any]:
        """The KPI report; with ``by="variant"`` also per champion/challenger variant."""
        now = self.clock.now()
        end = end or now
        start = start or end - timedelta(days=30)
        if start >= end:
            raise Invalid(
                "`from` must be before `to`", details=[{"field": "from", "message": "not before to"}]
            )
        key = process_key or self.process_key
        facts = _Facts()
        with self.db.read() as session:
            rows = session.execute(
                select(Case, HistoryEntry)
                .join(HistoryEntry, HistoryEntry.case_id == Case.id)
                .where(Case.process_key == key, HistoryEntry.at < end, HistoryEntry.action.in_(FACT_ACTIONS))
                .order_by(HistoryEntry.case_id, HistoryEntry.seq)
            )
            for case, entry in rows:
                facts.add(case, entry)
            per_stage = dict(
                session.execute(
                    select(Case.stage, func.count())
                    .where(Case.process_key == key, Case.status.in_(("active", "error")))
                    .group_by(Case.stage)
                ).all()
            )
        facts.close_visits()
        in_period = [c for c in facts.opened.values() if start <= c.opened_at < end]
        closed = [c for c in facts.opened.values() if c.ended_at is not None and start <= c.ended_at < end]
        payments = [p for p in facts.payments if p.at < end]
        promise_rate, kept, due = kpis.promise_kept_rate(
            [p for p in facts.promises if p.made_at >= start], payments, end
        )
        collected = sum(
            (p.amount for p in payments if p.case_id in {c.case_id for c in in_period}), Decimal(0)
        )
        report = {
            "process_key": key,
            "from": start,
            "to": end,
            "cases_opened": len(in_period),
            "cases_closed": len(closed),
            "cure_rate": _fmt(kpis.cure_rate(in_period)),
            "recovery_rate": _fmt(kpis.recovery_rate(in_period, payments)),
            "amount_overdue_at_open": str(sum((c.overdue_at_open for c in in_period), Decimal(0))),
            "amount_collected": str(collected),
            "roll_rates": {k: _fmt(v) for k, v in kpis.roll_rates(facts.observations, start, end).items()},
            "promise_kept_rate": _fmt(promise_rate),
            "promises_kept": kept,
            "promises_due": due,
            "right_party_contact_rate": _fmt(
                kpis.right_party_contact_rate([c for c in facts.calls if start <= c.at < end])
            ),
            "contact_attempts": sum(1 for c in facts.calls if start <= c.at < end),
            "cases_per_stage": {str(stage): count for stage, count in per_stage.items()},
            "mean_time_in_stage_hours": kpis.mean_time_in_stage(
                [v for v in facts.visits if (v.left_at or end) >= start], min(end, now)
            ),
        }
        if by == "variant":
            report.update(by=by, **_by_variant(facts, in_period, payments))
        return report


def _by_variant(
    facts: _Facts, in_period: list[kpis.CaseFacts], payments: list[kpis.PaymentFact]
) -> dict[str, Any]:
    """Per-variant sample sizes and rates, and each challenger's cure-rate test against the champion."""
    groups: dict[str, list[kpis.CaseFacts]] = {}
    for case in in_period:
        groups.setdefault(facts.variant.get(case.case_id, "none"), []).append(case)
    variants: dict[str, Any] = {}
    for name in sorted(groups):
        cases = groups[name]
        ids = {c.case_id for c in cases}
        variants[name] = {
            "cases": len(cases),
            "cured": sum(1 for c in cases if c.outcome == "cured"),
            "cure_rate": _fmt(kpis.cure_rate(cases)),
            "recovery_rate": _fmt(kpis.recovery_rate(cases, payments)),
            "amount_overdue_at_open": str(sum((c.overdue_at_open for c in cases), Decimal(0))),
            "amount_collected": str(sum((p.amount for p in payments if p.case_id in ids), Decimal(0))),
        }
    tests = []
    if variants:
        champion = max(sorted(variants), key=lambda n: variants[n]["cases"])
        base = variants[champion]
        for name in sorted(set(variants) - {champion}):
            other = variants[name]
            found = two_proportion_test(base["cured"], base["cases"], other["cured"], other["cases"])
            if found is not None:
                tests.append(
                    {
                        "champion": champion,
                        "challenger": name,
                        "difference": round(found.difference, 6),
                        "ci95": [round(found.ci95[0], 6), round(found.ci95[1], 6)],
                        "z": round(found.z, 6),
                        "p_value": round(found.p_value, 6),
                    }
                )
    return {"variants": variants, "cure_rate_tests": tests}
