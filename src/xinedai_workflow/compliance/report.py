"""The compliance report: for a period of borrower-local days, how often borrowers were contacted,
what the guardrails blocked and whether any contact broke a limit.

Every figure is recomputed from the contact records with each record's own policy version (the
sha256 it was decided under), so a changed policy does not rewrite the past. "Contacts in quiet
hours" and "borrower-days over a cap" must be zero; anything else is a defect to investigate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..complaints.repository import complaint_counts
from ..db.models import BlockedContact, RecordedContact
from ..db.session import Database
from ..domain.contact_model import CALL_CHANNELS, ContactKind, ContactPolicy, Target
from ..domain.contact_rules import in_quiet_hours
from ..domain.local_time import zone
from ..errors import Invalid
from .policy import PolicyStore
from .subjects import WRONG_PARTY

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
MAX_LISTED = 100
_CALLS = tuple(c.value for c in CALL_CHANNELS)


def _reached() -> Any:
    """Contacts that reached someone or may have (outcome not known yet)."""
    return or_(RecordedContact.connected.is_(None), RecordedContact.connected.is_(True))


def _distribution(counts: Iterable[int]) -> dict[str, Any]:
    values = list(counts)
    histogram = Counter(values)
    mean = Decimal(sum(values)) / len(values) if values else Decimal(0)
    return {
        "borrower_days": len(values),
        "max": max(values, default=0),
        "mean": str(mean.quantize(Decimal("0.01"))),
        "distribution": {str(k): histogram[k] for k in sorted(histogram)},
    }


class ComplianceReportService:
    """Builds the compliance report from contact records and blocked attempts."""

    def __init__(self, db: Database, policies: PolicyStore, clock: Clock) -> None:
        self.db = db
        self.policies = policies
        self.clock = clock

    def period(self, start: date | None, end: date | None) -> tuple[date, date]:
        """The inclusive period asked for; the last 30 days by default."""
        end = end or self.clock.now().date()
        start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        problems = []
        if start > end:
            problems.append({"field": "from", "message": "from must not be after to"})
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            problems.append({"field": "to", "message": f"a report covers at most {MAX_PERIOD_DAYS} days"})
        if problems:
            raise Invalid("the period is not valid", details=problems)
        return start, end

    def report(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """The report for borrower-local days `start`..`end` (inclusive)."""
        start, end = self.period(start, end)
        with self.db.read() as session:
            in_force = self.policies.in_force(session)
            return {
                "from": start,
                "to": end,
                "policy_in_force": in_force.stamp(),
                **self._contacts(session, start, end),
                "blocked_attempts": self._blocked(session, start, end),
                "quiet_hours_contacts": self._quiet_hours(session, start, end),
                "third_party_contacts": self._third_party(session, start, end),
                "complaints": self._complaints(session, in_force.contact.default_timezone, start, end),
            }

    @staticmethod
    def _complaints(session: Session, timezone: str, start: date, end: date) -> dict[str, Any]:
        """Complaints received in the period (bank-local days), per agency and per collector."""
        tz = zone(timezone)
        since = datetime.combine(start, time(), tz).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
        return complaint_counts(session, since, until)

    def _policy(self, session: Session, sha256: str) -> ContactPolicy:
        bundle = self.policies.by_sha256(session, sha256)
        return bundle.contact if bundle is not None else self.policies.in_force(session).contact

    def _contacts(self, session: Session, start: date, end: date) -> dict[str, Any]:
        in_period = RecordedContact.local_date.between(start, end)
        per_day = session.execute(
            select(
                RecordedContact.borrower_id,
                RecordedContact.local_date,
                func.count().label("contacts"),
                func.sum(case((RecordedContact.channel.in_(_CALLS), 1), else_=0)).label("calls"),
            )
            .where(in_period, _reached())
            .group_by(RecordedContact.borrower_id, RecordedContact.local_date)
        ).all()
        by_channel = dict(
            session.execute(
                select(RecordedContact.channel, func.count())
                .where(in_period, _reached())
                .group_by(RecordedContact.channel)
            ).all()
        )
        attempts = session.scalar(select(func.count()).where(in_period).select_from(RecordedContact)) or 0
        caps = self._caps(session, start, end)
        over = []
        for row in per_day:
            calls_cap, contacts_cap = caps.get((row.borrower_id, row.local_date), (None, None))
            calls = int(row.calls or 0)
            if (calls_cap is not None and calls > calls_cap) or (
                contacts_cap is not None and row.contacts > contacts_cap
            ):
                over.append(
                    {
                        "borrower_id": row.borrower_id,
                        "date": row.local_date,
                        "connected_calls": calls,
                        "contacts": row.contacts,
                        "max_connected_calls": calls_cap,
                        "max_contacts": contacts_cap,
                    }
                )
        return {
            "contacts": {
                "total": sum(by_channel.values()),
                "attempts": attempts,
                "borrowers": len({row.borrower_id for row in per_day}),
                "by_channel": dict(sorted(by_channel.items())),
            },
            "contacts_per_borrower_per_day": _distribution(row.contacts for row in per_day),
            "connected_calls_per_borrower_per_day": _distribution(
                int(row.calls or 0) for row in per_day if row.calls
            ),
            "over_daily_cap": {"count": len(over), "items": over[:MAX_LISTED]},
        }

    def _caps(self, session: Session, start: date, end: date) -> dict[tuple[str, date], tuple[Any, Any]]:
        """Per borrower-day, the most lenient caps among the policy versions that decided its
        contacts: a day is only reported over a cap that no version in force allowed."""
        versions = session.execute(
            select(RecordedContact.borrower_id, RecordedContact.local_date, RecordedContact.policy_sha256)
            .where(RecordedContact.local_date.between(start, end))
            .distinct()
        ).all()
        found: dict[tuple[str, date], list[ContactPolicy]] = defaultdict(list)
        for borrower_id, day, sha256 in versions:
            found[(borrower_id, day)].append(self._policy(session, sha256))
        caps: dict[tuple[str, date], tuple[Any, Any]] = {}
        for key, policies in found.items():
            calls = max(p.max_connected_calls_per_day for p in policies)
            limits = [p.max_contacts_per_day for p in policies]
            caps[key] = (calls, None if None in limits else max(x for x in limits if x is not None))
        return caps

    def _blocked(self, session: Session, start: date, end: date) -> dict[str, Any]:
        in_period = BlockedContact.local_date.between(start, end)

        def grouped(column: Any) -> dict[str, int]:
            rows = session.execute(select(column, func.count()).where(in_period).group_by(column)).all()
            return {str(key): count for key, count in sorted(rows)}

        involved: Counter[str] = Counter()
        for (rules,) in session.execute(select(BlockedContact.blocked_by).where(in_period)):
            involved.update(str(r) for r in rules or ())
        by_action = grouped(BlockedContact.action)
        return {
            "total": sum(by_action.values()),
            "by_rule": grouped(BlockedContact.rule),
            "by_rule_involved": dict(sorted(involved.items())),
            "by_action": by_action,
            "by_channel": grouped(BlockedContact.channel),
        }

    def _quiet_hours(self, session: Session, start: date, end: date) -> dict[str, Any]:
        """Contacts made in the quiet hours of the policy that decided them (must be zero).

        A send that failed reached nobody; an unanswered call still rang, so it counts."""
        query = select(
            RecordedContact.id,
            RecordedContact.borrower_id,
            RecordedContact.case_id,
            RecordedContact.channel,
            RecordedContact.at,
            RecordedContact.timezone,
            RecordedContact.policy_sha256,
            RecordedContact.policy_version,
        ).where(
            RecordedContact.local_date.between(start, end),
            or_(
                RecordedContact.kind != ContactKind.OUTBOUND_AUTOMATED.value,
                RecordedContact.connected.is_not(False),
            ),
        )
        found = []
        policies: dict[str, ContactPolicy] = {}
        for row in session.execute(query.execution_options(yield_per=1000)):
            policy = policies.get(row.policy_sha256)
            if policy is None:
                policy = policies[row.policy_sha256] = self._policy(session, row.policy_sha256)
            if row.channel in {c.value for c in policy.quiet_exempt_channels}:
                continue
            local = row.at.astimezone(zone(row.timezone))
            if in_quiet_hours(local.time(), policy.quiet_start, policy.quiet_end):
                found.append(
                    {
                        "contact_id": str(row.id),
                        "borrower_id": row.borrower_id,
                        "case_id": str(row.case_id),
                        "channel": row.channel,
                        "at": row.at,
                        "local_time": local.isoformat(),
                        "policy_version": row.policy_version,
                    }
                )
        return {"count": len(found), "items": found[:MAX_LISTED]}

    def _third_party(self, session: Session, start: date, end: date) -> dict[str, Any]:
        in_period = RecordedContact.local_date.between(start, end)
        emergency = and_(RecordedContact.target == Target.EMERGENCY_CONTACT.value, _reached())
        wrong_party = RecordedContact.outcome == WRONG_PARTY
        guarantor = and_(RecordedContact.target == Target.GUARANTOR.value, _reached())

        def count(condition: Any) -> int:
            return (
                session.scalar(select(func.count()).select_from(RecordedContact).where(in_period, condition))
                or 0
            )

        emergency_n, wrong_n = count(emergency), count(wrong_party)
        return {
            "total": emergency_n + wrong_n,
            "emergency_contact": emergency_n,
            "wrong_party": wrong_n,
            "guarantor": count(guarantor),
        }
