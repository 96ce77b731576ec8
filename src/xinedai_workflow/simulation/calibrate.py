"""Fit the behaviour model from the bank's own closed cases (`simulate --calibrate-from-db`).

Read-only on the live database. Each probability is fitted where the history holds enough
observations (`MIN_SAMPLES`); otherwise the base model's value is kept and the report says so.
Only closed cases are used, so the fit sees whole journeys (a promise whose case is still open
has not been settled either way yet).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from ..db.models import Case, HistoryEntry, HumanTask, RecordedContact
from ..db.session import Database
from ..domain import kpis
from ..domain.values import zone_of
from ..settings import Settings
from .command_args import DEFAULT_MODEL
from .metrics import percentile
from .model import BehaviourModel, ModelInvalid, dump_model, load_model, parse_model

MIN_SAMPLES = 30
MIN_HOUR_SAMPLES = 20
CLOSED = ("completed", "cancelled")
LETTER_WINDOW = timedelta(days=30)
DPD_EDGES = ((1, 30), (31, 60), (61, 90), (91, 180), (181, 720))


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


class Fit:
    """The fitted model and, per parameter, the value, the sample size and whether it was fitted."""

    def __init__(self, base: BehaviourModel) -> None:
        self.raw: dict[str, Any] = copy.deepcopy(base.raw)
        self.report: dict[str, dict[str, Any]] = {}

    def set(self, path: str, value: Any, n: int, minimum: int = MIN_SAMPLES) -> None:
        section, _, key = path.partition(".")
        if n >= minimum:
            self.raw[section][key] = value
            self.report[path] = {"value": value, "sample_size": n, "fitted": True}
        else:
            self.report[path] = {"value": self.raw[section].get(key), "sample_size": n, "fitted": False}


def calibrate(db: Database, base: BehaviourModel, process_key: str) -> Fit:
    """Fit `base` from the closed cases of `process_key` in `db`."""
    fit = Fit(base)
    with db.read() as session:
        closed = {
            row.id: row
            for row in session.execute(
                select(Case.id, Case.loan_id).where(Case.process_key == process_key, Case.status.in_(CLOSED))
            )
        }
        ids = list(closed)
        entries: list[Any] = []
        contacts: list[Any] = []
        tasks: list[Any] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            entries += session.execute(
                select(HistoryEntry.case_id, HistoryEntry.at, HistoryEntry.action, HistoryEntry.data).where(
                    HistoryEntry.case_id.in_(chunk),
                    HistoryEntry.action.in_(("case_started", "task_completed", "message_received")),
                )
            ).all()
            contacts += session.execute(
                select(
                    RecordedContact.case_id,
                    RecordedContact.channel,
                    RecordedContact.kind,
                    RecordedContact.at,
                    RecordedContact.timezone,
                    RecordedContact.connected,
                ).where(RecordedContact.case_id.in_(chunk))
            ).all()
            tasks += session.execute(
                select(HumanTask.lane, HumanTask.ended_at).where(
                    HumanTask.case_id.in_(chunk), HumanTask.status == "completed"
                )
            ).all()
    fit.raw.setdefault("calibration", {})
    fit.raw["calibration"] = {"process_key": process_key, "closed_cases": len(closed)}
    _portfolio(fit, entries)
    _calls(fit, entries, contacts)
    _payments(fit, entries, contacts)
    _capacity(fit, tasks)
    fit.raw["calibration"]["parameters"] = fit.report
    fit.raw["model_version"] = f"calibrated-from-{len(closed)}-closed-cases"
    return fit


def _portfolio(fit: Fit, entries: list[Any]) -> None:
    started = [e.data.get("variables") or {} for e in entries if e.action == "case_started" and e.data]
    dpds = [int(v["days_past_due"]) for v in started if isinstance(v.get("days_past_due"), int)]
    buckets = Counter(next((b for b in DPD_EDGES if b[0] <= d <= b[1]), DPD_EDGES[-1]) for d in dpds if d > 0)
    total = sum(buckets.values())
    fit.set(
        "portfolio.dpd",
        [{"range": list(b), "weight": round(buckets[b] / total, 4)} for b in DPD_EDGES if buckets[b]],
        total,
    )
    amounts = sorted(float(a) for a in (_money(v.get("overdue_principal")) for v in started) if a is not None)
    if amounts:
        low, high = percentile(amounts, 0.05) or 0, percentile(amounts, 0.95) or 0
        fit.set("portfolio.overdue_principal", [round(low, 2), round(max(high, low), 2)], len(amounts))
    rates = Counter(str(v["annual_rate"]) for v in started if v.get("annual_rate"))
    n = sum(rates.values())
    fit.set("portfolio.annual_rate", {k: round(c / n, 4) for k, c in sorted(rates.items())}, n)
    zones = Counter(str((v.get("borrower") or {}).get("timezone") or "Asia/Shanghai") for v in started)
    n = sum(zones.values())
    fit.set("portfolio.timezones", {k: round(c / n, 4) for k, c in sorted(zones.items())}, n)


def _calls(fit: Fit, entries: list[Any], contacts: list[Any]) -> None:
    by_hour: dict[int, list[bool]] = defaultdict(list)
    for c in contacts:
        if c.channel == "call" and c.kind == "human_recorded" and c.connected is not None:
            by_hour[c.at.astimezone(zone_of(c.timezone)).hour].append(bool(c.connected))
    table = dict(fit.raw["borrower"]["answer_by_local_hour"])
    every = [x for values in by_hour.values() for x in values]
    hours_report = {}
    if len(every) >= MIN_SAMPLES:
        table["default"] = round(sum(every) / len(every), 4)
    for hour in range(24):
        values = by_hour.get(hour, [])
        if len(values) >= MIN_HOUR_SAMPLES:
            table[str(hour)] = round(sum(values) / len(values), 4)
        hours_report[str(hour)] = len(values)
    fit.raw["borrower"]["answer_by_local_hour"] = table
    fit.report["borrower.answer_by_local_hour"] = {
        "value": table,
        "sample_size": len(every),
        "sample_size_by_hour": hours_report,
        "fitted": len(every) >= MIN_SAMPLES,
    }
    outcomes = Counter(
        str((e.data.get("data") or {}).get("outcome"))
        for e in entries
        if e.action == "task_completed"
        and e.data
        and (e.data.get("data") or {}).get("outcome") in kpis.CALL_OUTCOMES
    )
    answered = sum(n for o, n in outcomes.items() if o != "no_answer")
    for name, outcome in (
        ("wrong_party", "wrong_party"),
        ("dispute", "dispute"),
        ("hardship", "hardship"),
        ("promise", "promise_to_pay"),
    ):
        share = outcomes[outcome] + (outcomes["claims_paid"] if name == "dispute" else 0)
        fit.set(f"borrower.{name}", round(share / answered, 4) if answered else 0.0, answered)


def _payments(fit: Fit, entries: list[Any], contacts: list[Any]) -> None:
    promises, payments = [], []
    for e in entries:
        data = e.data or {}
        if e.action == "task_completed":
            form = data.get("data") or {}
            if form.get("outcome") == "promise_to_pay" and form.get("promised_date"):
                try:
                    on = date.fromisoformat(str(form["promised_date"])[:10])
                except ValueError:
                    continue
                promises.append(
                    kpis.PromiseFact(str(e.case_id), e.at, on, _money(form.get("promised_amount")))
                )
        elif e.action == "message_received" and data.get("name") == "payment_received":
            amount = _money((data.get("payload") or {}).get("amount"))
            if amount is not None:
                payments.append(kpis.PaymentFact(str(e.case_id), e.at, amount))
    if entries:  # the cases are closed: every promise has fallen due by the last entry + grace
        as_of = max(e.at for e in entries) + timedelta(days=30)
        rate, _kept, due = kpis.promise_kept_rate(promises, payments, as_of)
        fit.set("borrower.keep_promise", float(rate) if rate is not None else 0.0, due)
    paid_by_case: dict[str, list[datetime]] = defaultdict(list)
    for p in payments:
        paid_by_case[p.case_id].append(p.at)
    letters = [c for c in contacts if c.channel == "letter"]
    answered = sum(
        1 for c in letters if any(c.at <= at <= c.at + LETTER_WINDOW for at in paid_by_case[str(c.case_id)])
    )
    response = dict(fit.raw["borrower"].get("letter_response") or {})
    if len(letters) >= MIN_SAMPLES:
        response["pay"] = round(answered / len(letters), 4)
        fit.raw["borrower"]["letter_response"] = response
    fit.report["borrower.letter_response.pay"] = {
        "value": response.get("pay"),
        "sample_size": len(letters),
        "fitted": len(letters) >= MIN_SAMPLES,
    }


def _capacity(fit: Fit, tasks: list[Any]) -> None:
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    for lane, ended in tasks:
        if ended is not None:
            per_day[lane][ended.date()] += 1
    capacity = dict(fit.raw["staff"]["capacity_per_day"])
    for lane, days in sorted(per_day.items()):
        if len(days) >= 5:
            capacity[lane] = int(percentile([float(v) for v in days.values()], 0.9) or 0)
        fit.report[f"staff.capacity_per_day.{lane}"] = {
            "value": capacity.get(lane),
            "sample_size": len(days),
            "sample_unit": "working days",
            "fitted": len(days) >= 5,
        }
    fit.raw["staff"]["capacity_per_day"] = capacity


def run_calibration(settings: Settings, args: argparse.Namespace) -> int:
    """The command: fit, print the parameters with sample sizes, write DIR/model.yaml."""
    base_path = Path(args.model) if args.model else DEFAULT_MODEL
    try:
        base = load_model(base_path)
    except (FileNotFoundError, ModelInvalid) as err:
        print(f"xinedai-workflow simulate: base model {base_path}: {err}", file=sys.stderr)
        return 2
    db = Database(settings.database_url, pool_size=2)
    try:
        fit = calibrate(db, base, settings.default_process_key)
    finally:
        db.dispose()
    model = parse_model(fit.raw)  # the fitted model must itself be valid
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model.yaml"
    header = (
        "# Fitted by `xinedai-workflow simulate --calibrate-from-db`; see calibration: for sample sizes.\n"
    )
    target.write_text(header + dump_model(model), encoding="utf-8")
    print(f"closed cases of {settings.default_process_key}: {fit.raw['calibration']['closed_cases']}")
    print(f"{'parameter':<42} {'n':>7}  {'fitted':<6} value")
    for name, item in fit.report.items():
        value = yaml.safe_dump(item["value"], default_flow_style=True, width=10**6).strip()
        print(f"{name:<42} {item['sample_size']:>7}  {'yes' if item['fitted'] else 'no':<6} {value[:70]}")
    print(f"\nwritten: {target}")
    return 0
