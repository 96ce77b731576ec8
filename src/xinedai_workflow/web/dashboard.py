"""The supervisor dashboard: the review stage's figures as charts, each with its numbers one click
away (a table under the chart, and CSV). It reads the reports services the API serves:
`GET /api/v1/reports/kpis` (cure, recovery, roll, promise-kept and right-party-contact rates,
cases per stage, time in stage), `GET /api/v1/reports/compliance` (contacts per borrower-day vs
the caps) and the workload figures (`reports/workload.py`: work per group and person, tasks past
due, incidents)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..errors import NotFound, ServiceError
from ..reports.workload import WorkloadService
from .pages import User, _require, error_page
from .parts import WebParts, WebPartsDep
from .render import DISPLAY_ZONE, page

router = APIRouter(include_in_schema=False)
ServicesDep = WebPartsDep
DASHBOARD_ROLES = ("supervisor", "compliance", "auditor")
WEEKS = 8
DEFAULT_DAYS = 30
MAX_DAYS = 366


def _period(services: WebParts, days: int) -> tuple[datetime, datetime, date, date]:
    days = min(max(days, 1), MAX_DAYS)
    now = services.clock.now()
    local_today = now.astimezone(DISPLAY_ZONE).date()
    first = local_today - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), DISPLAY_ZONE)
    return start, now, first, local_today


def figures(services: WebParts, user: User, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """Every chart's numbers, as tables (header row + rows)."""
    start, end, first, last = _period(services, days)
    kpis = services.reports.kpis(start, end, None)
    weekly = []
    for i in range(WEEKS, 0, -1):
        w_end = end - timedelta(weeks=i - 1)
        w = services.reports.kpis(w_end - timedelta(weeks=1), w_end, None)
        weekly.append([w_end.astimezone(DISPLAY_ZONE).date().isoformat(), w["cure_rate"], w["recovery_rate"]])
    work = WorkloadService(services.db, services.clock)
    load = work.workload(user.principal, start, end)
    incidents = work.incidents()
    contacts = services.compliance.reports.report(first, last)
    policy = contacts["policy_in_force"]
    caps = services.compliance.policy()["in_force"]
    per_day = contacts["contacts_per_borrower_per_day"]
    calls = contacts["connected_calls_per_borrower_per_day"]
    limits = caps.get("contact", caps) if isinstance(caps, dict) else {}
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat(), "days": days},
        "charts": {
            "cure_recovery": {
                "kind": "line",
                "columns": ["week_ending", "cure_rate", "recovery_rate"],
                "rows": weekly,
            },
            "roll_rates": {
                "kind": "matrix",
                "columns": ["from", "to", "rate"],
                "rows": [[*k.split("->"), v] for k, v in kpis["roll_rates"].items()],
            },
            "rates": {
                "kind": "bar",
                "columns": ["figure", "rate", "count", "of"],
                "rows": [
                    [
                        "promise_kept_rate",
                        kpis["promise_kept_rate"],
                        kpis["promises_kept"],
                        kpis["promises_due"],
                    ],
                    [
                        "right_party_contact_rate",
                        kpis["right_party_contact_rate"],
                        None,
                        kpis["contact_attempts"],
                    ],
                    ["cure_rate", kpis["cure_rate"], None, kpis["cases_opened"]],
                    [
                        "recovery_rate",
                        kpis["recovery_rate"],
                        kpis["amount_collected"],
                        kpis["amount_overdue_at_open"],
                    ],
                ],
            },
            "funnel": {
                "kind": "funnel",
                "columns": ["stage", "cases"],
                "rows": [[s, n] for s, n in sorted(kpis["cases_per_stage"].items(), key=lambda x: -x[1])],
            },
            "time_in_stage": {
                "kind": "bar",
                "columns": ["stage", "mean_hours"],
                "rows": [[s, h] for s, h in kpis["mean_time_in_stage_hours"].items()],
            },
            "work_group": {
                "kind": "stacked",
                "columns": ["group", "open", "unassigned", "past_due", "completed"],
                "rows": [
                    [g, v["open"], v["unassigned"], v["past_due"], v["completed"]]
                    for g, v in load["groups"].items()
                ],
            },
            "work_person": {
                "kind": "stacked",
                "columns": ["person", "open", "past_due", "completed"],
                "rows": [[p, v["open"], v["past_due"], v["completed"]] for p, v in load["people"].items()],
            },
            "past_due": {
                "kind": "bar",
                "columns": ["group", "past_due"],
                "rows": [[g, v["past_due"]] for g, v in load["groups"].items()],
            },
            "contact_caps": {
                "kind": "histogram",
                "columns": ["contacts_per_borrower_day", "borrower_days", "connected_calls_borrower_days"],
                "rows": _histogram(per_day["distribution"], calls["distribution"]),
                "caps": {
                    "max_contacts_per_day": limits.get("max_contacts_per_day"),
                    "max_connected_calls_per_day": limits.get("max_connected_calls_per_day"),
                    "over_daily_cap": contacts["over_daily_cap"]["count"],
                    "max": per_day["max"],
                    "mean": per_day["mean"],
                    "policy_version": policy.get("policy_version") if isinstance(policy, dict) else None,
                },
            },
            "incidents": {
                "kind": "list",
                "columns": ["case_id", "loan_id", "element_id", "message", "since"],
                "rows": [
                    [i["case_id"], i["loan_id"], i["element_id"], i["message"], i["since"].isoformat()]
                    for i in incidents["items"]
                ],
                "count": incidents["count"],
            },
        },
        "headline": {
            "cases_opened": kpis["cases_opened"],
            "cases_closed": kpis["cases_closed"],
            "cure_rate": kpis["cure_rate"],
            "recovery_rate": kpis["recovery_rate"],
            "past_due": load["past_due"],
            "incidents": incidents["count"],
        },
    }


def _histogram(contacts: dict[str, int], calls: dict[str, int]) -> list[list[Any]]:
    keys = sorted({int(k) for k in (*contacts, *calls)})
    return [[k, contacts.get(str(k), 0), calls.get(str(k), 0)] for k in keys]


def _figures_or_error(
    request: Request, services: WebParts, user: User, days: int
) -> dict[str, Any] | Response:
    try:
        _require(user, DASHBOARD_ROLES)
        return figures(services, user, days)
    except ServiceError as err:
        return error_page(request, user, err)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, services: ServicesDep, user: User, days: int = DEFAULT_DAYS) -> Response:
    data = _figures_or_error(request, services, user, days)
    if isinstance(data, Response):
        return data
    return page(request, "dashboard.html", user, data=data, days=days)


@router.get("/dashboard/data.json")
def dashboard_data(request: Request, services: ServicesDep, user: User, days: int = DEFAULT_DAYS) -> Response:
    data = _figures_or_error(request, services, user, days)
    if isinstance(data, Response):
        return data
    return JSONResponse(data)


@router.get("/dashboard/{chart}.csv")
def dashboard_csv(
    request: Request, services: ServicesDep, user: User, chart: str, days: int = DEFAULT_DAYS
) -> Response:
    data = _figures_or_error(request, services, user, days)
    if isinstance(data, Response):
        return data
    table = data["charts"].get(chart)
    if table is None:
        return error_page(request, user, NotFound(f"no chart {chart!r}"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table["columns"])
    writer.writerows(["" if v is None else v for v in row] for row in table["rows"])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{chart}-{data["period"]["to"]}.csv"'},
    )
