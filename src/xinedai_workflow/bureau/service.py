"""Credit-bureau reports: created only after the borrower's notice went out, exported daily.

The diagram's step `credit_report_notice` (operation `send_credit_report_notice`, at a DPD
compliance sets in the diagram) queues the notice through the outbox, where the contact policy
applies to it like to any message. This job (run by the worker) creates the report record of a
case only when that notice was SENT (delivered to the channel) and the notice's
`report_after_days` have passed since, and only while the case is still in default (active): no
notice, no report — whatever a diagram does. Each record keeps its notice, its corrections and,
once the default ends, its end date and the date 5 years later until which it is kept
(征信业管理条例 art. 16).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..cases.views import amounts_owed
from ..clock import Clock
from ..compliance.policy import PolicyStore
from ..compliance.subjects import borrower_of
from ..db.models import BureauCorrection, BureauReport, Case, OutboxMessage
from ..db.session import Database
from ..domain.case_rules import COLLECTION_OVER  # no longer a default to report
from ..domain.local_time import zone
from ..errors import Conflict, Invalid, NotFound
from ..history.service import NewEntry, append
from ..ids import uuid7
from .export import BureauExporter

NOTICE_OPERATION = "send_credit_report_notice"
ACTOR = "system:bureau"
RETENTION_YEARS = 5  # 征信业管理条例 art. 16
ENDING_OUTCOMES = frozenset({"cured", "settled"})
CORRECTABLE = ("overdue_amount", "days_past_due", "default_date")
FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000000")  # fits Numeric(18, 2)
MAX_DPD = 100_000


def five_years_after(day: date) -> date:
    try:
        return day.replace(year=day.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year + RETENTION_YEARS, day=28)


def report_record(r: BureauReport) -> dict[str, Any]:
    return {
        "record_type": "report",
        "report_id": str(r.id),
        "case_id": str(r.case_id),
        "loan_id": r.loan_id,
        "borrower_id": r.borrower_id,
        "default_date": r.default_date.isoformat(),
        "days_past_due": r.days_past_due,
        "overdue_amount": str(r.overdue_amount.quantize(FEN)),
        "notice_outbox_id": str(r.notice_outbox_id),
        "notice_sent_at": r.notice_sent_at.isoformat(),
        "reported_at": r.reported_at.isoformat(),
        "export_date": r.export_date.isoformat(),
        "default_ended_on": r.default_ended_on.isoformat() if r.default_ended_on else None,
        "retain_until": r.retain_until.isoformat() if r.retain_until else None,
        "status": r.status,
    }


def correction_record(c: BureauCorrection, r: BureauReport) -> dict[str, Any]:
    return {
        "record_type": "correction",
        "report_id": str(r.id),
        "loan_id": r.loan_id,
        "borrower_id": r.borrower_id,
        "field": c.field,
        "old_value": c.old_value,
        "new_value": c.new_value,
        "reason": c.reason,
        "corrected_at": c.corrected_at.isoformat(),
        "corrected_by": c.corrected_by,
    }


class BureauService:
    """Creates, corrects, ends and exports credit-bureau records."""

    def __init__(self, db: Database, clock: Clock, policies: PolicyStore, exporter: BureauExporter) -> None:
        self.db = db
        self.clock = clock
        self.policies = policies
        self.exporter = exporter

    def _day(self, session: Session, at: datetime) -> date:
        return at.astimezone(zone(self.policies.in_force(session).contact.default_timezone)).date()

    # -- the job ---------------------------------------------------------------------------------
    def run(self) -> int:
        """Create the reports that are due and record defaults that ended; how many changed."""
        now = self.clock.now()
        with self.db.read() as session:
            due = session.execute(
                select(OutboxMessage.id, OutboxMessage.case_id)
                .join(Case, Case.id == OutboxMessage.case_id)
                .outerjoin(BureauReport, BureauReport.case_id == OutboxMessage.case_id)
                .where(
                    OutboxMessage.operation == NOTICE_OPERATION,
                    OutboxMessage.status == "sent",
                    Case.status == "active",
                    or_(Case.stage.is_(None), Case.stage.not_in(COLLECTION_OVER)),
                    BureauReport.id.is_(None),
                )
                .order_by(OutboxMessage.sent_at)
            ).all()
            ended = session.scalars(
                select(BureauReport.id)
                .join(Case, Case.id == BureauReport.case_id)
                .where(BureauReport.default_ended_on.is_(None), Case.outcome.in_(ENDING_OUTCOMES))
            ).all()
        done = 0
        days: set[date] = set()
        for notice_id, _case_id in due:
            with self.db.write() as session:
                day = self._report(session, notice_id, now)
            if day is not None:
                days.add(day)
                done += 1
        for report_id in ended:
            with self.db.write() as session:
                report = session.get(BureauReport, report_id)
                case = session.get(Case, report.case_id) if report else None
                if report is None or case is None or case.outcome not in ENDING_OUTCOMES:
                    continue
                ended_on = self._day(session, case.ended_at or now)
                self._end(session, report, case, ended_on, ACTOR, now)
                done += 1
        for day in sorted(days):
            self.export(day)
        return done

    def _report(self, session: Session, notice_id: uuid.UUID, now: datetime) -> date | None:
        notice = session.get(OutboxMessage, notice_id)
        if notice is None or notice.status != "sent" or notice.sent_at is None:
            return None
        case = session.get(Case, notice.case_id)
        if case is None or case.status != "active" or case.stage in COLLECTION_OVER:
            return None
        if session.scalar(select(BureauReport.id).where(BureauReport.case_id == case.id)) is not None:
            return None
        wait = _days(notice.payload.get("report_after_days"))
        if now < notice.sent_at + timedelta(days=wait):
            return None
        variables = case.variables or {}
        amounts = amounts_owed(variables, now) or {}
        policy = self.policies.in_force(session)
        export_day = self._day(session, now)
        report = BureauReport(
            id=uuid7(),
            case_id=case.id,
            loan_id=case.loan_id,
            borrower_id=borrower_of(case, policy.contact).id,
            notice_outbox_id=notice.id,
            notice_sent_at=notice.sent_at,
            days_past_due=int(amounts.get("days_past_due", variables.get("days_past_due", 0)) or 0),
            overdue_amount=_money(amounts.get("total"), variables),
            default_date=date.fromisoformat(str(variables.get("due_date", export_day.isoformat()))[:10]),
            reported_at=now,
            export_date=export_day,
            status="reported",
        )
        session.add(report)
        data = {
            "report_id": str(report.id),
            "notice_outbox_id": str(notice.id),
            "notice_sent_at": notice.sent_at.isoformat(),
            "days_past_due": report.days_past_due,
            "overdue_amount": str(report.overdue_amount),
        }
        append(session, case, [NewEntry("credit_report_created", ACTOR, None, data)], now)
        case.updated_at = now
        session.flush()
        return export_day

    # -- corrections and the end of a default -----------------------------------------------------
    def correct(
        self, report_id: uuid.UUID, field: str, value: Any, reason: str, actor: str
    ) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.write() as session:
            report = self._get(session, report_id)
            new_value = _parse(field, value)
            old = report_record(report)[field]
            setattr(report, field, new_value)
            report.status = "corrected" if report.default_ended_on is None else report.status
            day = self._day(session, now)
            correction = BureauCorrection(
                report_id=report.id,
                field=field,
                old_value=old,
                new_value=report_record(report)[field],
                reason=reason,
                corrected_at=now,
                corrected_by=actor,
                export_date=day,
            )
            session.add(correction)
            case = session.get(Case, report.case_id)
            if case is not None:
                data = {"report_id": str(report.id), "field": field, "old": old, "new": correction.new_value}
                append(session, case, [NewEntry("credit_report_corrected", actor, None, data)], now)
                case.updated_at = now
            session.flush()
            view = self._view(session, report)
        self.export(day)
        return view

    def end_default(self, report_id: uuid.UUID, ended_on: date, actor: str) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.write() as session:
            report = self._get(session, report_id)
            if report.default_ended_on is not None:
                raise Conflict("the default's end is already recorded", code="default_already_ended")
            if ended_on < report.default_date or ended_on.year > 2999:
                raise Invalid(
                    "the default cannot end before it began",
                    details=[{"field": "ended_on", "message": "before default_date"}],
                )
            case = session.get(Case, report.case_id)
            self._end(session, report, case, ended_on, actor, now)
            return self._view(session, report)

    @staticmethod
    def _end(
        session: Session, report: BureauReport, case: Case | None, ended_on: date, actor: str, now: datetime
    ) -> None:
        report.default_ended_on = ended_on
        report.retain_until = five_years_after(ended_on)
        report.status = "ended"
        if case is not None:
            data = {
                "report_id": str(report.id),
                "default_ended_on": ended_on.isoformat(),
                "retain_until": report.retain_until.isoformat(),
            }
            append(session, case, [NewEntry("credit_report_default_ended", actor, None, data)], now)
            case.updated_at = now
        session.flush()

    # -- reading and exporting --------------------------------------------------------------------
    @staticmethod
    def _get(session: Session, report_id: uuid.UUID) -> BureauReport:
        report = session.get(BureauReport, report_id)
        if report is None:
            raise NotFound(f"credit report {report_id} not found", code="credit_report_not_found")
        return report

    @staticmethod
    def _view(session: Session, report: BureauReport) -> dict[str, Any]:
        corrections = session.scalars(
            select(BureauCorrection)
            .where(BureauCorrection.report_id == report.id)
            .order_by(BureauCorrection.id)
        ).all()
        return {**report_record(report), "corrections": [correction_record(c, report) for c in corrections]}

    def get(self, report_id: uuid.UUID) -> dict[str, Any]:
        with self.db.read() as session:
            return self._view(session, self._get(session, report_id))

    def list_reports(self, loan_id: str | None, case_id: uuid.UUID | None) -> dict[str, Any]:
        with self.db.read() as session:
            query = select(BureauReport)
            if loan_id:
                query = query.where(BureauReport.loan_id == loan_id)
            if case_id:
                query = query.where(BureauReport.case_id == case_id)
            rows = session.scalars(query.order_by(BureauReport.reported_at.desc()).limit(500)).all()
            return {"items": [self._view(session, r) for r in rows]}

    def records_of(self, day: date) -> list[dict[str, Any]]:
        """The day's export: reports made and corrections made that day, in the order made."""
        with self.db.read() as session:
            reports = session.scalars(
                select(BureauReport)
                .where(BureauReport.export_date == day)
                .order_by(BureauReport.reported_at, BureauReport.id)
            ).all()
            corrections = session.execute(
                select(BureauCorrection, BureauReport)
                .join(BureauReport, BureauReport.id == BureauCorrection.report_id)
                .where(BureauCorrection.export_date == day)
                .order_by(BureauCorrection.id)
            ).all()
            return [report_record(r) for r in reports] + [correction_record(c, r) for c, r in corrections]

    def export(self, day: date) -> dict[str, Any]:
        records = self.records_of(day)
        where = self.exporter.export(day, records)
        return {"date": day, "location": where, "records": records}


def _days(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return 0
    return max(days, 0)


def _money(total: Any, variables: dict[str, Any]) -> Decimal:
    try:
        if total is not None:
            return Decimal(str(total)).quantize(FEN)
        return (
            Decimal(str(variables.get("overdue_principal", "0")))
            + Decimal(str(variables.get("overdue_interest", "0")))
        ).quantize(FEN)
    except InvalidOperation:
        return Decimal("0.00")


def _parse(field: str, value: Any) -> Any:
    problem = [{"field": "value", "message": f"not a valid {field}"}]
    if field not in CORRECTABLE:
        raise Invalid(
            f"{field!r} cannot be corrected (one of {', '.join(CORRECTABLE)})",
            details=[{"field": "field", "message": "not correctable"}],
        )
    try:
        if field == "overdue_amount":
            amount = Decimal(str(value))
            if (
                not Decimal(0) <= amount < MAX_AMOUNT
                or amount != amount.quantize(FEN)
                or isinstance(value, int)
            ):
                raise Invalid(
                    "an amount is a non-negative decimal string with at most 2 places", details=problem
                )
            return amount
        if field == "days_past_due":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DPD:
                raise Invalid("days_past_due is a non-negative integer", details=problem)
            return value
        day = date.fromisoformat(str(value))
        if not 2000 <= day.year <= 2999:
            raise Invalid("a default date lies between the years 2000 and 2999", details=problem)
        return day
    except (InvalidOperation, ValueError) as err:
        raise Invalid(f"not a valid {field}", details=problem) from err
