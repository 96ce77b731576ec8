"""The contact guard: every outbound message and every recorded human contact passes here.

It reads the policy in force, takes the borrower's lock, evaluates the attempt against the
borrower's contacts from every case, user and agency, and records the outcome in the same
transaction: a contact record when allowed (a reservation with an unknown outcome for an
outbox message being sent), a blocked-attempt row otherwise. Decisions carry the policy id,
version and sha256 in force.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..db.models import BlockedContact, Case, HumanTask, OutboxMessage, RecordedContact
from ..db.unit_of_work import Refusal
from ..definitions.registry import DefinitionRegistry
from ..domain.case_rules import ENDED
from ..domain.contact_model import (
    CALL_CHANNELS,
    Action,
    Channel,
    ContactAttempt,
    ContactDecision,
    ContactKind,
    Purpose,
    Rule,
    Target,
)
from ..domain.contact_policy import evaluate
from ..domain.local_time import zone
from ..errors import Conflict, Invalid
from ..history.service import NewEntry, append
from ..ids import uuid7
from .facts import REFUSED, record_fact, with_recorded_facts
from .pauses import last_pause_end, paused_decision
from .policy import PolicyInForce, PolicyStore
from .repository import as_policy_record, contact_rows, lock_borrower, lookback, reservations_of
from .subjects import (
    Borrower,
    HumanContact,
    borrower_of,
    borrower_phone_of,
    contact_channel,
    human_contact,
    number_key,
    outbound_attempt,
)

OUTBOX_ACTOR = "system:outbox"


class ContactNotAllowed(Conflict):
    """A recorded human contact the policy refuses (409, with the rule and next allowed moment)."""

    code = "contact_not_allowed"


@dataclass(frozen=True)
class Admission:
    """The policy's verdict on an outbox message; `contact_id` is the reservation when allowed."""

    decision: ContactDecision
    policy: PolicyInForce
    borrower: Borrower
    attempt: ContactAttempt
    contact_id: uuid.UUID | None = None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def record(self) -> dict[str, Any]:
        """The decision as written to the case history."""
        return decision_record(self.decision, self.policy)


def decision_record(decision: ContactDecision, policy: PolicyInForce) -> dict[str, Any]:
    return {**decision.as_record(), "policy_sha256": policy.sha256}


def _stale_after_defer_limit(
    decision: ContactDecision, queued_at: datetime, policy: PolicyInForce
) -> ContactDecision:
    """A message deferred again and again is dropped once it could not go out within the
    policy's `defer_limit_hours` of being queued: by then it is stale."""
    limit = timedelta(hours=policy.contact.defer_limit_hours)
    if decision.action is not Action.DEFER or decision.next_allowed_at is None:
        return decision
    if decision.next_allowed_at - queued_at <= limit:
        return decision
    hours = policy.contact.defer_limit_hours
    return replace(
        decision,
        action=Action.DROP,
        next_allowed_at=None,
        reason=f"{decision.reason}; not sent within {hours} h of being queued",
        reason_zh=f"{decision.reason_zh}；排队后 {hours} 小时内无法发送",
    )


def _moot_once_closed(decision: ContactDecision, case: Case, attempt: ContactAttempt) -> ContactDecision:
    """A collection message still queued (e.g. deferred overnight) when its case ended — the
    borrower paid, or the case was cancelled — is dropped: it would demand a debt that is settled."""
    if attempt.purpose is not Purpose.COLLECTION or case.status not in ENDED:
        return decision
    ended = case.outcome or case.status
    return replace(
        decision,
        allowed=False,
        action=Action.DROP,
        rule=Rule.CASE_CLOSED,
        blocked_by=(Rule.CASE_CLOSED,),
        next_allowed_at=None,
        reason=f"the case ended ({ended}) before this collection message went out",
        reason_zh=f"案件已结束（{ended}），不再发送该催收信息",
    )


def local_date(borrower: Borrower, at: datetime) -> date:
    return at.astimezone(zone(borrower.timezone)).date()


class ContactGuard:
    """Applies the contact policy in force to outbound messages and recorded human contacts."""

    def __init__(self, policies: PolicyStore, registry: DefinitionRegistry) -> None:
        self.policies = policies
        self.registry = registry

    # -- shared -------------------------------------------------------------------------------
    @staticmethod
    def borrower(session: Session, case: Case, policy: PolicyInForce) -> Borrower:
        """The case's borrower with the state the policy needs (variables and recorded facts)."""
        return with_recorded_facts(session, case, borrower_of(case, policy.contact))

    def _decide(
        self,
        session: Session,
        policy: PolicyInForce,
        borrower: Borrower,
        attempt: ContactAttempt,
        exclude: Sequence[uuid.UUID] = (),
    ) -> tuple[ContactDecision, list[RecordedContact]]:
        rows = contact_rows(session, borrower.id, attempt.at - lookback(policy.contact), exclude)
        history = [as_policy_record(r) for r in rows]
        return evaluate(policy.contact, attempt, history, borrower.state), rows

    def _block(
        self,
        session: Session,
        case: Case,
        borrower: Borrower,
        attempt: ContactAttempt,
        decision: ContactDecision,
        policy: PolicyInForce,
        actor: str,
        outbox_id: uuid.UUID | None = None,
        task_id: uuid.UUID | None = None,
        agency_id: str | None = None,
    ) -> None:
        session.add(
            BlockedContact(
                agency_id=agency_id,
                borrower_id=borrower.id,
                case_id=case.id,
                loan_id=case.loan_id,
                channel=attempt.channel.value,
                kind=attempt.kind.value,
                target=attempt.target.value,
                purpose=attempt.purpose.value,
                at=attempt.at,
                timezone=borrower.timezone,
                local_date=local_date(borrower, attempt.at),
                action=decision.action.value,
                rule=(decision.rule.value if decision.rule is not None else "unknown"),
                blocked_by=[r.value for r in decision.blocked_by],
                reason=decision.reason,
                next_allowed_at=decision.next_allowed_at,
                actor=actor,
                outbox_id=outbox_id,
                task_id=task_id,
                decision=decision_record(decision, policy),
                **policy.stamp(),
            )
        )

    def _contact(
        self,
        case: Case,
        borrower: Borrower,
        attempt: ContactAttempt,
        policy: PolicyInForce,
        actor: str,
        connected: bool | None,
    ) -> RecordedContact:
        return RecordedContact(
            id=uuid7(),
            borrower_id=borrower.id,
            case_id=case.id,
            loan_id=case.loan_id,
            channel=attempt.channel.value,
            kind=attempt.kind.value,
            target=attempt.target.value,
            target_id=attempt.target_id,
            purpose=attempt.purpose.value,
            at=attempt.at,
            timezone=borrower.timezone,
            local_date=local_date(borrower, attempt.at),
            connected=connected,
            conversation=False,
            actor=actor,
            number_key=attempt.number,
            **policy.stamp(),
        )

    # -- outbound messages --------------------------------------------------------------------
    def admit_outbound(
        self, session: Session, row: OutboxMessage, case: Case, now: datetime
    ) -> Admission | None:
        """Decide on an outbox message about to be sent; None when it contacts nobody.

        Allowed: a reservation (outcome unknown) is added and counts at once. A reservation of
        this very message left by a worker that crashed mid-send is reused when allowed again,
        and otherwise kept (it may have gone out, so it keeps counting).
        """
        attempt = outbound_attempt(row, now)
        if attempt is None:
            return None
        policy = self.policies.in_force(session)
        borrower = self.borrower(session, case, policy)
        lock_borrower(session, borrower.id)
        stale = reservations_of(session, row.id)
        paused = paused_decision(session, case.loan_id, attempt, policy.contact)
        if paused is not None:  # held until the pause ends, however long: never stale for it
            decision = paused
        else:
            decision, _rows = self._decide(session, policy, borrower, attempt, [r.id for r in stale])
            # a message held by a pause counts its defer limit from the pause's end
            pause_end = last_pause_end(session, case.loan_id, now)
            queued = max(row.created_at, pause_end) if pause_end is not None else row.created_at
            decision = _stale_after_defer_limit(decision, queued, policy)
        decision = _moot_once_closed(decision, case, attempt)
        if not decision.allowed:
            self._block(session, case, borrower, attempt, decision, policy, OUTBOX_ACTOR, outbox_id=row.id)
            return Admission(decision, policy, borrower, attempt)
        if stale:
            contact = stale[-1]
            contact.at = attempt.at
            contact.local_date = local_date(borrower, attempt.at)
            contact.timezone = borrower.timezone
            for key, value in policy.stamp().items():
                setattr(contact, key, value)
        else:
            contact = self._contact(case, borrower, attempt, policy, OUTBOX_ACTOR, connected=None)
            contact.outbox_id = row.id
            session.add(contact)
        session.flush()
        return Admission(decision, policy, borrower, attempt, contact.id)

    @staticmethod
    def settle_outbound(session: Session, contact_id: uuid.UUID, delivered: bool) -> None:
        """The send's outcome: delivered counts as a contact; a failed send does not."""
        contact = session.get(RecordedContact, contact_id)
        if contact is not None:
            contact.connected = delivered

    # -- recorded human contacts (the tasks service's hook) ------------------------------------
    def check_task_completion(
        self,
        session: Session,
        principal: Principal,
        case: Case,
        task: HumanTask,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Refusal | None:
        """Record the contact a contact task reports, or refuse it.

        Runs inside the completion's unit of work, before the engine step. A task without the
        `contactChannel` property is no contact (None). Refused: the refusal is written (block
        row and history) and a `Refusal` returned; the unit of work commits the record, then
        raises the refusal without completing the task.
        """
        definition = self.registry.get(session, case.process_version_id)
        properties = definition.user_task_settings(task.element_id)
        channel = contact_channel(properties)
        if channel is None:
            return None
        contact = self.parse_contact(channel, properties, data, case, now)
        return self.record_human_contact(
            session, principal.actor, case, contact, now, task_id=task.id, element_id=task.element_id
        )

    @staticmethod
    def parse_contact(
        channel: str, properties: Mapping[str, Any], data: Mapping[str, Any], case: Case, now: datetime
    ) -> HumanContact:
        """The contact a person reports (Invalid when the channel is not one a person uses)."""
        try:
            return human_contact(channel, properties, data, now, borrower_phone_of(case))
        except ValueError as err:
            raise Invalid(
                str(err),
                code="invalid_contact_task",
                details=[{"field": "contactChannel", "message": str(err)}],
            ) from err

    def record_human_contact(
        self,
        session: Session,
        actor: str,
        case: Case,
        contact: HumanContact,
        now: datetime,
        task_id: uuid.UUID | None = None,
        element_id: str | None = None,
        agency_id: str | None = None,
        pre_block: ContactDecision | None = None,
    ) -> Refusal | None:
        """Check a person's contact against the policy and record it, or record the refusal.

        `pre_block`: a refusal decided before the policy (e.g. an agency's contract does not
        cover the channel), recorded the same way. Returns a `Refusal` (its record commits,
        then the unit of work raises it); None when the contact was recorded.
        """
        policy = self.policies.in_force(session)
        borrower = self.borrower(session, case, policy)
        lock_borrower(session, borrower.id)
        if pre_block is not None:
            decision = pre_block
        else:
            decision = (
                paused_decision(session, case.loan_id, contact.attempt, policy.contact)
                or self._decide(session, policy, borrower, contact.attempt)[0]
            )
        record = decision_record(decision, policy)
        base: dict[str, Any] = {
            "task_id": str(task_id) if task_id else None,
            "channel": contact.attempt.channel.value,
            "target": contact.attempt.target.value,
        }
        if agency_id is not None:
            base["agency_id"] = agency_id
        if not decision.allowed:
            self._block(
                session,
                case,
                borrower,
                contact.attempt,
                decision,
                policy,
                actor,
                task_id=task_id,
                agency_id=agency_id,
            )
            entry = NewEntry("contact_refused", actor, element_id, {**base, "decision": record})
            append(session, case, [entry], now)
            case.updated_at = now
            session.flush()
            return Refusal(
                ContactNotAllowed(
                    f"the contact is not allowed: {decision.reason}",
                    details={**record, "borrower_timezone": borrower.timezone},
                )
            )
        row = self._contact(case, borrower, contact.attempt, policy, actor, contact.connected)
        row.conversation = contact.conversation
        row.outcome = contact.outcome
        row.recording_ref = contact.recording_ref
        row.task_id = task_id
        row.agency_id = agency_id
        session.add(row)
        if contact.attempt.target is Target.EMERGENCY_CONTACT and contact.outcome == "refused":
            # GB/T 45251-2025: never contacted again once they refuse — a fact, never purged
            record_fact(
                session,
                case,
                borrower.id,
                REFUSED,
                "refused further contact during a recorded call",
                actor,
                now,
                target_id=contact.attempt.target_id,
            )
        data_out = {
            **base,
            "contact_id": str(row.id),
            "outcome": contact.outcome,
            "connected": contact.connected,
            "conversation": contact.conversation,
            "decision": record,
        }
        append(session, case, [NewEntry("contact_recorded", actor, element_id, data_out)], now)
        return None

    # -- asking before dialling ---------------------------------------------------------------
    def preview(
        self, session: Session, case: Case, channel: Channel, target: Target, now: datetime
    ) -> dict[str, Any]:
        """Would a person's contact by `channel` be allowed now? Nothing is written."""
        policy = self.policies.in_force(session)
        borrower = self.borrower(session, case, policy)
        number = (
            number_key(borrower_phone_of(case))
            if channel is Channel.CALL and target is Target.BORROWER
            else None
        )
        attempt = ContactAttempt(
            channel=channel, kind=ContactKind.HUMAN_RECORDED, at=now, target=target, number=number
        )
        decision, rows = self._decide(session, policy, borrower, attempt)
        decision = paused_decision(session, case.loan_id, attempt, policy.contact) or decision
        today = local_date(borrower, now)
        on_day = [r for r in rows if r.local_date == today]
        calls = [r for r in on_day if r.channel in {c.value for c in CALL_CHANNELS}]
        c = policy.contact
        return {
            **decision_record(decision, policy),
            "channel": channel.value,
            "target": target.value,
            "borrower_timezone": borrower.timezone,
            "borrower_local_time": now.astimezone(zone(borrower.timezone)).isoformat(),
            "today": {
                "date": today.isoformat(),
                "connected_calls": sum(1 for r in calls if r.connected is not False),
                "call_attempts": len(calls),
                "contacts": sum(1 for r in on_day if r.connected is not False),
            },
            "limits": {
                "quiet_hours": f"{c.quiet_start:%H:%M}-{c.quiet_end:%H:%M}",
                "max_connected_calls_per_day": c.max_connected_calls_per_day,
                "max_call_attempts_per_day": c.max_call_attempts_per_day,
                "max_contacts_per_day": c.max_contacts_per_day,
                "max_unanswered_attempts_per_number": c.max_unanswered_attempts_per_number,
            },
        }
