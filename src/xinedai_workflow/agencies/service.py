"""Agencies, placements and what agency collectors may do.

- An agency follows the bank's contact policy, never a weaker one: its `contact_policy_id` must
  be the policy in force, its contacts pass the same guard and count against the same daily
  caps as the bank's own (the caps are per borrower, across the bank and every agency). Its
  contract may narrow the channels it uses; a contact on another channel is refused.
- An agency collector (role `agency_collector`, token claim `agency`) sees only the cases placed
  with their agency, while the placement is in force and the contract runs; anything else
  answers 404. They see the borrower fields the placement contract names (PIPL art. 21), the
  others masked, and every read leaves a row in the personal-data access log.
- A payment made while a case is placed earns the agency commission at the placement's rate,
  rounded half-up to the fen per payment; the daily statement lists and totals them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..auth.visibility import can_see
from ..cases.views import amounts_owed
from ..clock import Clock
from ..compliance.guard import ContactGuard
from ..compliance.subjects import borrower_of
from ..db.models import Agency, Case, Commission, PersonalDataRead, Placement, RecordedContact
from ..db.session import Database
from ..domain.contact_model import Action, Channel, ContactDecision, Rule, Target
from ..domain.local_time import zone
from ..domain.masking import mask_personal_data
from ..errors import Conflict, Invalid, NotFound
from ..history.access_log import AccessLog
from ..history.service import NewEntry, append
from ..ids import uuid7
from ..runtime.steps import ENDED
from . import repository as repo
from .schemas import AgencyContactIn, AgencyIn

FEN = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
# GB/T 45251-2025: outside agencies are evaluated at least yearly and before their contract ends.
EVALUATION_INTERVAL = timedelta(days=365)
EVALUATION_BEFORE_END = timedelta(days=60)
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2999, 12, 31)
MAX_SCORECARD_DAYS = 730
_FIGURES = ("overdue_principal", "overdue_interest", "days_past_due", "due_date", "product")


def fen(value: Decimal) -> str:
    return str(value.quantize(FEN, rounding=ROUND_HALF_UP))


def commission_on(amount: Decimal, rate: Decimal) -> Decimal:
    """The commission on one payment, half-up to the fen."""
    return (amount * rate).quantize(FEN, rounding=ROUND_HALF_UP)


class AgencyService:
    """Everything about agencies the API, the worker and the payment events need."""

    def __init__(self, db: Database, clock: Clock, guard: ContactGuard, access_log: AccessLog) -> None:
        self.db = db
        self.clock = clock
        self.guard = guard
        self.access_log = access_log

    # -- the business day ------------------------------------------------------------------------
    def _zone_name(self, session: Session) -> str:
        return self.guard.policies.in_force(session).contact.default_timezone

    def _today(self, session: Session) -> date:
        return self.clock.now().astimezone(zone(self._zone_name(session))).date()

    # -- agencies --------------------------------------------------------------------------------
    def create(self, principal: Principal, body: AgencyIn) -> tuple[int, dict[str, Any]]:
        """Register an agency (201), or the same registration again (200); 409 for a different one."""
        with self.db.write() as session:
            self._check(session, body)
            existing = session.get(Agency, body.id)
            if existing is not None:
                if _same(existing, body):
                    return 200, self._view(session, existing)
                raise Conflict(f"agency {body.id!r} already exists with other terms", code="agency_exists")
            now = self.clock.now()
            agency = Agency(
                id=body.id,
                name=body.name,
                scope=body.scope,
                contract_ref=body.contract_ref,
                contract_start=body.contract_start,
                contract_end=body.contract_end,
                commission_rate=Decimal(body.commission_rate).quantize(RATE_PLACES),
                allowed_channels=sorted(set(body.allowed_channels)),
                personal_data_fields=sorted(set(body.personal_data_fields)),
                contact_policy_id=body.contact_policy_id,
                impact_assessment_ref=body.impact_assessment_ref,
                last_evaluated_on=body.last_evaluated_on,
                status="active",
                created_at=now,
                created_by=principal.actor,
                updated_at=now,
            )
            session.add(agency)
            session.flush()
            return 201, self._view(session, agency)

    def _check(self, session: Session, body: AgencyIn) -> None:
        problems = []
        if body.contract_end <= body.contract_start:
            problems.append({"field": "contract_end", "message": "must be after contract_start"})
        rate = Decimal(body.commission_rate)
        if not Decimal("0") <= rate < Decimal("1") or rate != rate.quantize(RATE_PLACES):
            problems.append(
                {"field": "commission_rate", "message": "a share in [0, 1) with at most 4 places"}
            )
        ours = self.guard.policies.in_force(session).contact.policy_id
        if body.contact_policy_id != ours:
            problems.append(
                {
                    "field": "contact_policy_id",
                    "message": f"an agency follows the bank's contact policy {ours!r}, never another one",
                }
            )
        if problems:
            raise Invalid("the agency cannot be registered", details=problems)

    def _view(self, session: Session, agency: Agency, counts: dict[str, int] | None = None) -> dict[str, Any]:
        counts = repo.active_counts(session) if counts is None else counts
        return {
            "id": agency.id,
            "name": agency.name,
            "scope": agency.scope,
            "contract_ref": agency.contract_ref,
            "contract_start": agency.contract_start,
            "contract_end": agency.contract_end,
            "commission_rate": str(agency.commission_rate),
            "allowed_channels": list(agency.allowed_channels),
            "personal_data_fields": list(agency.personal_data_fields),
            "contact_policy_id": agency.contact_policy_id,
            "impact_assessment_ref": agency.impact_assessment_ref,
            "last_evaluated_on": agency.last_evaluated_on,
            "evaluation_due": _evaluation_due(agency, self._today(session)),
            "status": agency.status,
            "active_placements": counts.get(agency.id, 0),
            "created_at": agency.created_at,
            "created_by": agency.created_by,
        }

    def list_agencies(self) -> dict[str, Any]:
        with self.db.read() as session:
            counts = repo.active_counts(session)
            agencies = session.query(Agency).order_by(Agency.id).all()
            return {"items": [self._view(session, a, counts) for a in agencies]}

    def get(self, agency_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return self._view(session, self._agency(session, agency_id))

    def public(self) -> dict[str, Any]:
        """Agencies under contract today: name, scope and contract period, nothing else."""
        with self.db.read() as session:
            today = self._today(session)
            agencies = (
                session.query(Agency)
                .filter(
                    Agency.status == "active", Agency.contract_start <= today, Agency.contract_end >= today
                )
                .order_by(Agency.name)
                .all()
            )
            items = [
                {
                    "name": a.name,
                    "scope": a.scope,
                    "contract_start": a.contract_start,
                    "contract_end": a.contract_end,
                }
                for a in agencies
            ]
            return {"items": items, "as_of": today}

    @staticmethod
    def _agency(session: Session, agency_id: str) -> Agency:
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise NotFound(f"agency {agency_id!r} not found", code="agency_not_found")
        return agency

    # -- placements ------------------------------------------------------------------------------
    def place(self, principal: Principal, agency_id: str, case_ids: list[uuid.UUID]) -> dict[str, Any]:
        """Place cases with an agency, all or none (one transaction)."""
        unique: list[uuid.UUID] = list(dict.fromkeys(case_ids))
        with self.db.write() as session:
            agency = self._agency(session, agency_id)
            today = self._today(session)
            if agency.status != "active" or not agency.contract_start <= today <= agency.contract_end:
                raise Conflict(
                    f"agency {agency_id!r} is not under contract today", code="agency_not_under_contract"
                )
            now = self.clock.now()
            policy = self.guard.policies.in_force(session)
            missing, placed, ended = [], [], []
            cases: list[Case] = []
            for case_id in unique:
                case = session.get(Case, case_id)
                if case is None or not can_see(session, principal, case, None):  # agency staff: no incidents
                    missing.append(str(case_id))
                elif case.status in ENDED:
                    ended.append(str(case_id))
                elif repo.active_placement(session, case.id) is not None:
                    placed.append(str(case_id))
                else:
                    cases.append(case)
            if missing:
                raise NotFound(
                    "some cases were not found", code="case_not_found", details={"case_ids": missing}
                )
            if placed or ended:
                details = {"already_placed": placed, "ended": ended}
                raise Conflict("some cases cannot be placed", code="placement_conflict", details=details)
            out = []
            for case in cases:
                placement = Placement(
                    id=uuid7(),
                    agency_id=agency.id,
                    case_id=case.id,
                    loan_id=case.loan_id,
                    borrower_id=borrower_of(case, policy.contact).id,
                    active_key=case.id,
                    balance_at_placement=_owed(case, now),
                    commission_rate=agency.commission_rate,
                    placed_at=now,
                    placed_by=principal.actor,
                )
                session.add(placement)
                data = {"placement_id": str(placement.id), "agency_id": agency.id}
                append(session, case, [NewEntry("agency_placed", principal.actor, None, data)], now)
                case.updated_at = now
                out.append(placement)
            try:
                session.flush()
            except IntegrityError as err:  # a concurrent placement of the same case won
                raise Conflict("a case was placed concurrently", code="placement_conflict") from err
            return {"items": [_placement_view(p) for p in out]}

    def placements(self, agency_id: str, active_only: bool) -> dict[str, Any]:
        with self.db.read() as session:
            self._agency(session, agency_id)
            return {
                "items": [_placement_view(p) for p in repo.placements_of(session, agency_id, active_only)]
            }

    def recall(self, principal: Principal, placement_id: uuid.UUID, reason: str, note: str) -> dict[str, Any]:
        with self.db.write() as session:
            placement = session.get(Placement, placement_id)
            if placement is None:
                raise NotFound(f"placement {placement_id} not found", code="placement_not_found")
            case = session.get(Case, placement.case_id)
            if case is None or not can_see(session, principal, case, None):  # agency staff: no incidents
                raise NotFound(f"placement {placement_id} not found", code="placement_not_found")
            if placement.active_key is None:
                raise Conflict("the placement was already recalled", code="already_recalled")
            self.recall_in(session, placement, case, reason, note, principal.actor)
            return _placement_view(placement)

    def recall_in(
        self, session: Session, placement: Placement, case: Case, reason: str, note: str, actor: str
    ) -> None:
        """End a placement inside the caller's unit of work (complaints use this too)."""
        now = self.clock.now()
        placement.active_key = None
        placement.recalled_at = now
        placement.recalled_by = actor
        placement.recall_reason = reason
        placement.recall_note = note or None
        data = {"placement_id": str(placement.id), "agency_id": placement.agency_id, "reason": reason}
        append(session, case, [NewEntry("agency_recalled", actor, None, data)], now)
        case.updated_at = now
        session.flush()

    def recall_expired(self) -> int:
        """Recall every placement whose agency's contract has ended (the worker runs this)."""
        with self.db.write() as session:
            found = repo.expired_placements(session, self._today(session))
            for placement, agency in found:
                case = session.get(Case, placement.case_id)
                if case is not None:
                    note = f"contract {agency.contract_ref} ended {agency.contract_end.isoformat()}"
                    self.recall_in(session, placement, case, "contract_end", note, "system:agencies")
            return len(found)

    # -- agency collectors -----------------------------------------------------------------------
    def _placed_case(
        self, session: Session, principal: Principal, case_id: uuid.UUID
    ) -> tuple[Case, Placement, Agency]:
        if principal.agency is None:  # e.g. an admin: no agency's cases are theirs
            raise NotFound(f"case {case_id} not found")
        placement = repo.active_placement(session, case_id)
        agency = session.get(Agency, principal.agency)
        today = self._today(session)
        if (
            placement is None
            or agency is None
            or placement.agency_id != agency.id
            or agency.status != "active"
            or not agency.contract_start <= today <= agency.contract_end
        ):
            raise NotFound(f"case {case_id} not found")
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case, placement, agency

    def _agency_view(
        self, session: Session, principal: Principal, case: Case, placement: Placement, agency: Agency
    ) -> dict[str, Any]:
        variables = case.variables or {}
        raw = variables.get("borrower")
        person: dict[str, Any] = raw if isinstance(raw, dict) else {}
        shown: dict[str, Any] = {}
        revealed: dict[str, Any] = {}
        masked: list[str] = []
        for key, value in sorted(person.items()):
            if key == "timezone":
                shown[key] = value
            elif key in agency.personal_data_fields:
                shown[key] = revealed[key] = value
            else:
                shown[key] = mask_personal_data({key: value}, inside_person=True)[key]
                masked.append(key)
        view = {
            "case_id": str(case.id),
            "loan_id": case.loan_id,
            "status": case.status,
            "stage": case.stage,
            "placed_at": placement.placed_at,
            "borrower": shown,
            "masked_fields": masked,
            "figures": {k: variables[k] for k in _FIGURES if k in variables},
            "amounts": amounts_owed(variables, self.clock.now()),
        }
        self._log_read(session, principal, case, {"borrower": revealed})
        return view

    def _log_read(self, session: Session, principal: Principal, case: Case, revealed: dict[str, Any]) -> None:
        """Every read by an agency is logged, even one that revealed nothing unmasked."""
        if self.access_log.record(session, principal, case, "agency_case_view", revealed) is None:
            session.add(
                PersonalDataRead(
                    at=self.clock.now(),
                    actor=principal.actor,
                    roles=sorted(principal.roles),
                    case_id=case.id,
                    loan_id=case.loan_id,
                    task_id=None,
                    access="agency_case_view",
                    fields=[],
                )
            )
            session.flush()

    def agency_cases(self, principal: Principal) -> dict[str, Any]:
        if principal.agency is None:  # e.g. an admin: no agency's cases are theirs
            return {"items": []}
        with self.db.write() as session:  # the reads are logged
            items = []
            for placement in repo.placements_of(session, principal.agency, active_only=True):
                try:
                    case, placement, agency = self._placed_case(session, principal, placement.case_id)
                except NotFound:
                    continue
                items.append(self._agency_view(session, principal, case, placement, agency))
            return {"items": items}

    def agency_case(self, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
        with self.db.write() as session:
            case, placement, agency = self._placed_case(session, principal, case_id)
            return self._agency_view(session, principal, case, placement, agency)

    def record_contact(
        self, principal: Principal, case_id: uuid.UUID, body: AgencyContactIn
    ) -> dict[str, Any]:
        """Record an agency collector's contact through the guard (409 when the policy refuses)."""
        now = self.clock.now()
        with self.db.write() as session:
            case, _placement, agency = self._placed_case(session, principal, case_id)
            data = body.model_dump(exclude_none=True)
            contact = self.guard.parse_contact(body.channel, {}, data, case, now)
            pre_block = None
            if body.channel not in agency.allowed_channels:
                pre_block = _not_in_contract(self.guard, session, agency, body.channel)
            refusal = self.guard.record_human_contact(
                session, principal.actor, case, contact, now, agency_id=agency.id, pre_block=pre_block
            )
            if refusal is None:
                case.updated_at = now
                session.flush()
                row = _last_contact(session, case.id, agency.id)
                result = {
                    "case_id": str(case.id),
                    "agency_id": agency.id,
                    "contact_id": str(row),
                    "channel": body.channel,
                    "outcome": body.outcome,
                    "connected": contact.connected,
                    "at": now,
                }
        if refusal is not None:
            raise refusal.error
        return result

    def contact_check(
        self, principal: Principal, case_id: uuid.UUID, channel: Channel, target: Target
    ) -> dict[str, Any]:
        with self.db.read() as session:
            case, _placement, agency = self._placed_case(session, principal, case_id)
            preview = self.guard.preview(session, case, channel, target, self.clock.now())
            if channel.value not in agency.allowed_channels:
                preview.update(
                    allowed=False,
                    action=Action.REFUSE.value,
                    rule=Rule.AGENCY_NOT_ALLOWED.value,
                    reason=f"the contract of agency {agency.id} does not cover {channel.value}",
                )
            return {"case_id": str(case.id), **preview}

    # -- commission ------------------------------------------------------------------------------
    def on_payment(self, session: Session, case: Case, event_id: str, amount: str, paid_at: datetime) -> None:
        """A payment event (inside its unit of work): commission if the case was placed then."""
        placement = repo.placement_at(session, case.id, paid_at)
        if placement is None:
            return
        value = Decimal(amount)
        rate = placement.commission_rate
        row = Commission(
            id=uuid7(),
            agency_id=placement.agency_id,
            placement_id=placement.id,
            case_id=case.id,
            loan_id=case.loan_id,
            payment_event_id=event_id,
            paid_at=paid_at,
            business_date=paid_at.astimezone(zone(self._zone_name(session))).date(),
            amount=value,
            rate=rate,
            commission=commission_on(value, rate),
            recorded_at=self.clock.now(),
            detail={"amount": amount},
        )
        session.add(row)
        session.flush()

    def statement(self, agency_id: str, day: date) -> dict[str, Any]:
        """The agency's commission statement of one business day, reconciled to the fen."""
        with self.db.read() as session:
            self._agency(session, agency_id)
            rows = repo.commissions_on(session, agency_id, day)
            lines = [
                {
                    "payment_event_id": r.payment_event_id,
                    "case_id": str(r.case_id),
                    "loan_id": r.loan_id,
                    "paid_at": r.paid_at,
                    "amount": fen(r.amount),
                    "rate": str(r.rate),
                    "commission": fen(r.commission),
                }
                for r in rows
            ]
            payments_total = sum((r.amount for r in rows), Decimal("0"))
            commission_total = sum((r.commission for r in rows), Decimal("0"))
            # the rate applied to each rate group's total: differs from the per-payment sum only by rounding
            by_rate: dict[Decimal, Decimal] = {}
            for r in rows:
                by_rate[r.rate] = by_rate.get(r.rate, Decimal("0")) + r.amount
            on_total = sum((commission_on(total, rate) for rate, total in by_rate.items()), Decimal("0"))
            recomputed = sum((commission_on(r.amount, r.rate) for r in rows), Decimal("0"))
            difference = commission_total - on_total
            half_fen = Decimal("0.005") * len(rows)
            return {
                "agency_id": agency_id,
                "date": day,
                "timezone": self._zone_name(session),
                "lines": lines,
                "payments": len(rows),
                "payments_total": fen(payments_total),
                "commission_total": fen(commission_total),
                "commission_at_rate_on_total": fen(on_total),
                "rounding_difference": fen(difference),
                "reconciled": recomputed == commission_total and abs(difference) <= half_fen,
            }

    # -- scorecard -------------------------------------------------------------------------------
    def scorecard(self, agency_id: str, first: date | None, last: date | None) -> dict[str, Any]:
        with self.db.read() as session:
            agency = self._agency(session, agency_id)
            today = self._today(session)
            last = last or today
            first = first or last - timedelta(days=364)
            if not (first >= MIN_DAY and last <= MAX_DAY) or (last - first).days > MAX_SCORECARD_DAYS:
                raise Invalid(
                    f"the period must lie within {MIN_DAY.year}-{MAX_DAY.year} and span at most "
                    f"{MAX_SCORECARD_DAYS + 1} days",
                    details=[{"field": "from", "message": "period out of range"}],
                )
            if first > last:
                raise Invalid(
                    "'from' must not be after 'to'", details=[{"field": "from", "message": "after 'to'"}]
                )
            tz = zone(self._zone_name(session))
            start = datetime.combine(first, time(), tz).astimezone(UTC)
            end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
            placements = repo.overlapping(session, agency_id, start, end)
            borrower_days: set[tuple[str, date]] = set()
            for p in placements:
                begin = max(p.placed_at, start).astimezone(tz).date()
                stop = min(p.recalled_at or end, end, self.clock.now()).astimezone(tz).date()
                day = begin
                while day <= stop and day <= last:
                    borrower_days.add((p.borrower_id, day))
                    day += timedelta(days=1)
            commissions = repo.commissions_between(session, agency_id, first, last)
            recovered = sum((c.amount for c in commissions), Decimal("0"))
            placed = sum((p.balance_at_placement for p in placements), Decimal("0"))
            contacts = repo.agency_contacts(session, agency_id, first, last)
            blocks = repo.agency_blocks(session, agency_id, first, last)
            by_rule: dict[str, int] = {}
            for b in blocks:
                by_rule[b.rule] = by_rule.get(b.rule, 0) + 1
            days = len(borrower_days)
            return {
                "agency_id": agency_id,
                "from": first,
                "to": last,
                "placements": len(placements),
                "placed_balance": fen(placed),
                "recovered": fen(recovered),
                "recovery_rate": str((recovered / placed).quantize(RATE_PLACES)) if placed else None,
                "contacts": len(contacts),
                "connected_contacts": sum(1 for c in contacts if c.connected),
                "borrower_days": days,
                "contacts_per_borrower_day": str((Decimal(len(contacts)) / days).quantize(FEN))
                if days
                else None,
                "violations_attempted": len(blocks),
                "violations_by_rule": by_rule,
                "complaints": repo.complaint_count(session, agency_id, start, end),
                "commission": fen(sum((c.commission for c in commissions), Decimal("0"))),
                "contract_end": agency.contract_end,
                "evaluation_due": _evaluation_due(agency, today),
            }


def _same(agency: Agency, body: AgencyIn) -> bool:
    return (
        agency.name == body.name
        and agency.scope == body.scope
        and agency.contract_ref == body.contract_ref
        and agency.contract_start == body.contract_start
        and agency.contract_end == body.contract_end
        and agency.commission_rate == Decimal(body.commission_rate)
        and list(agency.allowed_channels) == sorted(set(body.allowed_channels))
        and list(agency.personal_data_fields) == sorted(set(body.personal_data_fields))
        and agency.contact_policy_id == body.contact_policy_id
        and agency.impact_assessment_ref == body.impact_assessment_ref
    )


def _evaluation_due(agency: Agency, today: date) -> bool:
    if agency.contract_end - today <= EVALUATION_BEFORE_END and (
        agency.last_evaluated_on is None
        or agency.last_evaluated_on < agency.contract_end - EVALUATION_BEFORE_END
    ):
        return True
    reference = agency.last_evaluated_on or agency.contract_start
    return today - reference >= EVALUATION_INTERVAL


def _owed(case: Case, now: datetime) -> Decimal:
    variables = case.variables or {}
    amounts = amounts_owed(variables, now)
    if amounts is not None:
        return Decimal(str(amounts["total"])).quantize(FEN)
    total = Decimal("0")
    for key in ("overdue_principal", "overdue_interest"):
        try:
            total += Decimal(str(variables.get(key, "0")))
        except ArithmeticError:
            continue
    return total.quantize(FEN)


def _placement_view(p: Placement) -> dict[str, Any]:
    return {
        "placement_id": str(p.id),
        "agency_id": p.agency_id,
        "case_id": str(p.case_id),
        "loan_id": p.loan_id,
        "balance_at_placement": fen(p.balance_at_placement),
        "commission_rate": str(p.commission_rate),
        "placed_at": p.placed_at,
        "placed_by": p.placed_by,
        "recalled_at": p.recalled_at,
        "recalled_by": p.recalled_by,
        "recall_reason": p.recall_reason,
        "recall_note": p.recall_note,
        "active": p.active_key is not None,
    }


def _not_in_contract(guard: ContactGuard, session: Session, agency: Agency, channel: str) -> ContactDecision:
    policy = guard.policies.in_force(session).contact
    allowed = ", ".join(agency.allowed_channels)
    return ContactDecision(
        allowed=False,
        action=Action.REFUSE,
        rule=Rule.AGENCY_NOT_ALLOWED,
        reason=f"the contract of agency {agency.id} does not cover contact by {channel} (allowed: {allowed})",
        reason_zh=f"委外机构 {agency.id} 的合同不包括 {channel} 渠道（允许：{allowed}）",
        next_allowed_at=None,
        policy_id=policy.policy_id,
        policy_version=policy.policy_version,
        blocked_by=(Rule.AGENCY_NOT_ALLOWED,),
    )


def _last_contact(session: Session, case_id: uuid.UUID, agency_id: str) -> uuid.UUID:
    """The contact just recorded (ids are time-ordered UUIDv7)."""
    return session.execute(
        select(RecordedContact.id)
        .where(RecordedContact.case_id == case_id, RecordedContact.agency_id == agency_id)
        .order_by(RecordedContact.id.desc())
        .limit(1)
    ).scalar_one()
