"""Facts about the borrower the contact policy needs beyond the case variables.

- Emergency-contact conditions (GB/T 45251-2025): `unreachable` (until a later `reachable`),
  `deceased`, `incapacitated`, recorded on the case by the people who work it (or by a diagram's
  variables), and `emergency_contact_refused` for an emergency contact who asked not to be
  contacted again. Facts are kept apart from the contact records, which retention purges: a
  refusal is honoured for ever.
- Open complaints (`complaints/`) pause collection contact for their case.
- The dialled number, as a keyed hash, so unanswered attempts can be counted per number without
  storing the number in the contact records.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Case, Complaint, ContactFact
from ..ids import uuid7
from .subjects import Borrower, number_key

__all__ = ["FACT_KINDS", "REFUSED", "number_key", "record_fact", "with_recorded_facts"]

FACT_KINDS = ("unreachable", "reachable", "deceased", "incapacitated", "emergency_contact_refused")
REFUSED = "emergency_contact_refused"


def with_recorded_facts(session: Session, case: Case, borrower: Borrower) -> Borrower:
    """The borrower's state with the recorded facts and the case's open complaints added."""
    facts = list(
        session.scalars(
            select(ContactFact)
            .where(ContactFact.borrower_id == borrower.id)
            .order_by(ContactFact.recorded_at, ContactFact.id)
        )
    )
    state = borrower.state
    unreachable = state.unreachable
    for fact in facts:
        if fact.kind == "unreachable":
            unreachable = True
        elif fact.kind == "reachable":
            unreachable = False
    kinds = {f.kind for f in facts}
    refused = {f.target_id for f in facts if f.kind == REFUSED and f.target_id}
    complaint = session.scalar(
        select(Complaint.id).where(Complaint.case_id == case.id, Complaint.status == "open").limit(1)
    )
    state = replace(
        state,
        unreachable=unreachable,
        deceased=state.deceased or "deceased" in kinds,
        incapacitated=state.incapacitated or "incapacitated" in kinds,
        refused_emergency_contacts=state.refused_emergency_contacts | frozenset(refused),
        complaint_open=state.complaint_open or complaint is not None,
    )
    return replace(borrower, state=state)


def record_fact(
    session: Session,
    case: Case,
    borrower_id: str,
    kind: str,
    reason: str,
    actor: str,
    now: datetime,
    target_id: str | None = None,
) -> ContactFact:
    """Add one fact (the caller checked the kind and who may record it)."""
    fact = ContactFact(
        id=uuid7(),
        borrower_id=borrower_id,
        case_id=case.id,
        kind=kind,
        target_id=target_id,
        reason=reason,
        recorded_at=now,
        recorded_by=actor,
    )
    session.add(fact)
    session.flush()
    return fact
