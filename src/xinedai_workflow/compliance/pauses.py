"""Contact pauses of loans (e.g. a natural disaster: no collection contact in one province for 30
days). A pause holds below the diagrams: the contact guard defers every collection message of the
loan's cases until the pause ends and refuses recorded collection contacts; service messages
still go out. Lifting a pause early makes the messages it deferred due at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db.models import ContactPause, OutboxMessage
from ..domain.contact_model import Action, ContactAttempt, ContactDecision, ContactPolicy, Purpose, Rule


def active_pause(session: Session, loan_id: str, at: datetime) -> ContactPause | None:
    """The pause of `loan_id` in force at `at` that lasts longest, if any."""
    return session.scalars(
        select(ContactPause)
        .where(
            ContactPause.loan_id == loan_id,
            ContactPause.lifted_at.is_(None),
            ContactPause.created_at <= at,
            ContactPause.until > at,
        )
        .order_by(ContactPause.until.desc())
        .limit(1)
    ).first()


def last_pause_end(session: Session, loan_id: str, at: datetime) -> datetime | None:
    """When the loan's latest pause that ended by `at` ended (lifted, or its `until`)."""
    ends = [
        pause.lifted_at if pause.lifted_at is not None and pause.lifted_at < pause.until else pause.until
        for pause in session.scalars(
            select(ContactPause).where(ContactPause.loan_id == loan_id, ContactPause.created_at <= at)
        )
    ]
    past = [end for end in ends if end <= at]
    return max(past) if past else None


def paused_decision(
    session: Session, loan_id: str, attempt: ContactAttempt, policy: ContactPolicy
) -> ContactDecision | None:
    """A deferral until the pause ends, when collection contact with the loan is paused now."""
    if attempt.purpose is not Purpose.COLLECTION:
        return None
    pause = active_pause(session, loan_id, attempt.at)
    if pause is None:
        return None
    until = pause.until.isoformat()
    return ContactDecision(
        allowed=False,
        action=Action.DEFER,
        rule=Rule.CONTACT_PAUSED,
        reason=f"collection contact with loan {loan_id} is paused until {until}: {pause.reason}",
        reason_zh=f"贷款 {loan_id} 的催收联系已暂停至 {until}：{pause.reason}",
        next_allowed_at=pause.until,
        policy_id=policy.policy_id,
        policy_version=policy.policy_version,
        blocked_by=(Rule.CONTACT_PAUSED,),
    )


def pause_loan(
    session: Session,
    loan_id: str,
    until: datetime,
    reason: str,
    actor: str,
    now: datetime,
    batch_id: uuid.UUID | None,
) -> ContactPause:
    pause = ContactPause(
        loan_id=loan_id,
        until=until,
        reason=reason,
        batch_id=batch_id,
        created_by=actor,
        created_at=now,
    )
    session.add(pause)
    return pause


def resume_loan(session: Session, loan_id: str, actor: str, now: datetime) -> int:
    """Lift the loan's pauses in force; its deferred messages become due now. Returns how many
    pauses were lifted."""
    lifted = 0
    for pause in session.scalars(
        select(ContactPause).where(
            ContactPause.loan_id == loan_id, ContactPause.lifted_at.is_(None), ContactPause.until > now
        )
    ):
        pause.lifted_at = now
        pause.lifted_by = actor
        lifted += 1
    if lifted:
        # the guard decides again on each (quiet hours and caps still hold)
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.loan_id == loan_id,
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    return lifted


def paused_loans(session: Session, loan_ids: Iterable[str], at: datetime) -> set[str]:
    """Which of `loan_ids` are paused at `at`."""
    ids = list(loan_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(ContactPause.loan_id).where(
                ContactPause.loan_id.in_(ids),
                ContactPause.lifted_at.is_(None),
                ContactPause.created_at <= at,
                ContactPause.until > at,
            )
        )
    )
