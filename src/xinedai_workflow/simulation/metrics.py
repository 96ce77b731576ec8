"""The figures of one run, read from the scratch database after the last simulated hour.

Contacts per borrower-day and policy violations come from the real compliance report (every
contact record re-checked against the policy version that decided it), so a non-zero violation
count is a defect of the guard, not of the simulator.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..db.models import Case, HistoryEntry, HumanTask
from ..domain.contact_model import ContactPolicy

if TYPE_CHECKING:
    from ..bootstrap import Services
    from .run import VariantRun

STEP_ACTIONS = ("case_started", "task_completed", "timer_fired", "message_received")
REPORT_DAYS = 366


def _outcome_key(status: str, outcome: str | None) -> str:
    if outcome:
        return outcome
    return {"active": "open", "error": "error"}.get(status, status)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def collect(run: VariantRun, services: Services) -> dict[str, Any]:
    """Everything the summary reports about one run (raw counts; rates are computed when pooling)."""
    metrics = run.model.metrics
    with services.db.read() as session:
        cases = session.execute(
            select(Case.id, Case.status, Case.outcome, Case.created_at, Case.ended_at, Case.variables)
        ).all()
        stage_rows = session.execute(
            select(HistoryEntry.case_id, HistoryEntry.data).where(HistoryEntry.action == "stage_entered")
        ).all()
        steps = session.scalar(
            select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action.in_(STEP_ACTIONS))
        )
        completed = session.execute(
            select(HumanTask.case_id, HumanTask.element_id).where(HumanTask.status == "completed")
        ).all()
        created = session.execute(select(HumanTask.case_id, HumanTask.element_id)).all()
        policy = services.compliance.policies.in_force(session).contact
    outcomes: Counter[str] = Counter(_outcome_key(c.status, c.outcome) for c in cases)
    entered: set[tuple[Any, str]] = set()
    for case_id, data in stage_rows:
        to = (data or {}).get("to")
        if to:
            entered.add((case_id, str(to)))
    stage_entries = Counter(stage for _case, stage in entered)
    lawsuits = sum(1 for _c, element in completed if element in metrics["lawsuit_tasks"])
    plan_cases = {c for c, element in completed if element in metrics["plan_tasks"]}
    missed = {c for c, element in created if element in metrics["plan_missed_tasks"]}
    paid_outcomes = set(metrics["paid_outcomes"])
    kept = {c.id for c in cases if c.id in plan_cases and c.id not in missed and c.outcome in paid_outcomes}
    durations = [(c.ended_at - c.created_at).total_seconds() / 86400 for c in cases if c.ended_at is not None]
    overdue = sum((Decimal(str((c.variables or {}).get("overdue_amount", "0"))) for c in cases), Decimal(0))
    contacts = _contacts(run, services, policy)
    return {
        "cases": len(cases),
        "outcomes": dict(outcomes),
        "cured": sum(outcomes[o] for o in metrics["cured_outcomes"]),
        "stage_entries": dict(stage_entries),
        "amount_overdue": overdue,
        "amount_recovered": run.paid_total,
        "letters": sum(run.channel.by_operation[o] for o in metrics["letter_operations"]),
        "messages_by_channel": dict(run.channel.by_channel),
        "lawsuits": lawsuits,
        "plans_agreed": len(plan_cases),
        "plans_kept": len(kept),
        "durations": durations,
        "engine_steps": int(steps or 0),
        "guard_refusals": run.guard_refusals,
        "workload": {
            group: {"done": list(run.done[group]), "backlog": list(run.backlog[group])}
            for group in sorted(set(run.done) | set(run.backlog))
        },
        **contacts,
    }


def _contacts(run: VariantRun, services: Services, policy: ContactPolicy) -> dict[str, Any]:
    """Contacts per borrower-day (distribution) and violations, from the compliance report."""
    reports = services.compliance.reports
    first = (run.start - timedelta(days=1)).date()
    last = (run.start + timedelta(days=run.days + 1)).date()
    histogram: Counter[int] = Counter()
    calls: Counter[int] = Counter()
    over_cap = quiet = 0
    day = first
    while day <= last:
        end = min(day + timedelta(days=REPORT_DAYS - 1), last)
        report = reports.report(day, end)
        for k, v in report["contacts_per_borrower_per_day"]["distribution"].items():
            histogram[int(k)] += int(v)
        for k, v in report["connected_calls_per_borrower_per_day"]["distribution"].items():
            calls[int(k)] += int(v)
        over_cap += int(report["over_daily_cap"]["count"])
        quiet += int(report["quiet_hours_contacts"]["count"])
        day = end + timedelta(days=1)
    return {
        "contacts_histogram": dict(histogram),
        "calls_histogram": dict(calls),
        "violations_over_cap": over_cap,
        "violations_quiet_hours": quiet,
        "cap_contacts": policy.max_contacts_per_day,
        "cap_connected_calls": policy.max_connected_calls_per_day,
    }
