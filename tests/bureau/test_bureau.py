"""Credit-bureau reporting: the notice of 征信业管理条例 art. 15 goes out through the outbox at the
diagram's DPD, the report record is created only after it was sent and its wait has passed, and
never without it; records go to the daily export file, keep their corrections and, once the
default ends, the date 5 years later (art. 16)."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.scenarios.conftest import Flow
from xinedai_workflow.bureau.export import FIELDS, DailyFileExporter
from xinedai_workflow.bureau.service import five_years_after

NOTICE = "send_credit_report_notice"


def reports(flow: Flow, case_id: str) -> list[dict[str, Any]]:
    response = flow.client.get(f"/api/v1/bureau/reports?case_id={case_id}", headers=flow.auth("compliance"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def notices(flow: Flow, case_id: str) -> list[Any]:
    return [r for r in flow.outbox(case_id) if r.operation == NOTICE]


def test_the_default_is_reported_only_after_the_notice_went_out(flow: Flow) -> None:
    # DPD 85 today (Monday 2026-03-02): DPD 90 is reached on Saturday 2026-03-07
    case_id, loan_id = flow.overdue(days_past_due=85, due_date="2025-12-07")
    flow.run_worker()
    flow.advance_to_local(4, 23)  # Friday 23:00: DPD 89
    assert notices(flow, case_id) == [] and reports(flow, case_id) == []
    flow.advance_to_local(1, 10)  # Saturday 10:00: DPD 90
    [notice] = notices(flow, case_id)
    assert notice.status == "sent" and notice.payload["purpose"] == "service"
    assert "征信业管理条例" in notice.payload["text"] and "2026-03-14" in notice.payload["text"]
    assert notice.payload["report_after_days"] == 7
    assert reports(flow, case_id) == []  # told, but the notice period is running
    flow.advance(timedelta(days=6, hours=23))
    assert reports(flow, case_id) == []
    flow.advance(timedelta(hours=2))
    [report] = reports(flow, case_id)
    sent_at = notice.sent_at
    assert report["notice_outbox_id"] == str(notice.id)
    assert datetime.fromisoformat(report["reported_at"]) >= sent_at + timedelta(days=7)
    assert report["days_past_due"] == 97 and report["default_date"] == "2025-12-07"
    assert report["status"] == "reported" and report["retain_until"] is None
    history = flow.history(case_id)
    sent = [
        h["seq"]
        for h in history
        if h["action"] == "contact_sent" and h["data"]["outbox_id"] == str(notice.id)
    ]
    created = [h["seq"] for h in history if h["action"] == "credit_report_created"]
    assert sent and created and sent[0] < created[0]

    # the daily file of the export adapter (JSON Lines by default)
    folder = Path(flow.services.settings.bureau_export_dir)
    lines = (
        (folder / f"credit-reports-{report['export_date']}.jsonl").read_text(encoding="utf-8").splitlines()
    )
    [line] = [json.loads(x) for x in lines]
    assert list(line) == list(FIELDS) and line["record_type"] == "report" and line["loan_id"] == loan_id

    # a correction is kept and exported as its own line on the day it is made
    compliance = flow.auth("compliance")
    corrected = flow.client.post(
        f"/api/v1/bureau/reports/{report['report_id']}/corrections",
        headers=compliance,
        json={"field": "overdue_amount", "value": "2000.00", "reason": "罚息计算更正"},
    )
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert body["overdue_amount"] == "2000.00" and body["status"] == "corrected"
    assert body["corrections"][0]["old_value"] == report["overdue_amount"]
    exported = flow.client.get(f"/api/v1/bureau/exports/{report['export_date']}", headers=compliance).json()
    assert [r["record_type"] for r in exported["records"]] == ["report", "correction"]
    bad = flow.client.post(
        f"/api/v1/bureau/reports/{report['report_id']}/corrections",
        headers=compliance,
        json={"field": "overdue_amount", "value": "12.345", "reason": "x"},
    )
    assert bad.status_code == 422

    # paid in full: the default ends and the record is kept until 5 years later
    flow.pay(loan_id, "100000.00")
    flow.advance(timedelta(minutes=5))
    [ended] = reports(flow, case_id)
    assert flow.case(case_id)["stage"] in ("review", "closed")
    ended_on = date.fromisoformat(ended["default_ended_on"])
    assert ended["status"] == "ended" and ended["retain_until"] == five_years_after(ended_on).isoformat()
    again = flow.client.post(
        f"/api/v1/bureau/reports/{report['report_id']}/default-ended",
        headers=flow.system,
        json={"ended_on": "2026-03-20"},
    )
    assert again.status_code == 409


def test_nothing_is_reported_when_the_notice_never_went_out(flow: Flow) -> None:
    case_id, loan_id = flow.overdue(days_past_due=95, due_date="2025-11-27")
    # a complaint pauses contact before the worker sends the notice: the notice is dropped
    complaint = {
        "event_id": str(uuid.uuid4()),
        "loan_id": loan_id,
        "received_at": flow.clock.now().isoformat(),
        "summary": "投诉",
    }
    assert (
        flow.client.post("/api/v1/events/complaint", headers=flow.system, json=complaint).status_code == 201
    )
    flow.run_worker()
    [notice] = notices(flow, case_id)
    assert notice.status == "dropped"
    flow.advance(timedelta(days=20))
    assert reports(flow, case_id) == []


def test_a_default_cured_before_the_report_is_not_reported(flow: Flow) -> None:
    case_id, loan_id = flow.overdue(days_past_due=95, due_date="2025-11-27")
    flow.run_worker()
    assert notices(flow, case_id)[0].status == "sent"
    flow.advance(timedelta(days=1))
    flow.pay(loan_id, "100000.00")
    flow.advance(timedelta(days=10))
    case = flow.case(case_id)
    assert case["stage"] in ("review", "closed") and case["outcome"] in ("cured", "settled")
    assert reports(flow, case_id) == []


def test_only_compliance_reads_and_corrects_the_bureau_records(flow: Flow) -> None:
    collector = flow.auth("collector", groups=["collectors"])
    assert flow.client.get("/api/v1/bureau/reports", headers=collector).status_code == 403
    assert flow.client.get("/api/v1/bureau/reports", headers=flow.auth("auditor")).status_code == 200
    missing = flow.client.post(
        f"/api/v1/bureau/reports/{uuid.uuid4()}/default-ended",
        headers=flow.system,
        json={"ended_on": "2026-03-20"},
    )
    assert missing.status_code == 404


def test_the_csv_layout(tmp_path: Path) -> None:
    exporter = DailyFileExporter(tmp_path, "csv")
    record = {
        "record_type": "report",
        "report_id": "r1",
        "loan_id": "L1",
        "overdue_amount": "12.30",
        "extra": "x",
    }
    where = exporter.export(date(2026, 3, 9), [record])
    with open(where, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(FIELDS) and rows[0]["overdue_amount"] == "12.30" and rows[0]["field"] == ""
    assert Path(where).name == "credit-reports-2026-03-09.csv"
    assert five_years_after(date(2028, 2, 29)) == date(2033, 2, 28)
