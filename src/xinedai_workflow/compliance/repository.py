"""Queries on contact records and blocked attempts, and the per-borrower lock.

Checking a contact against the policy and recording it happen in one transaction that holds
the borrower's lock, so two workers (or a worker and a collector) cannot both use the last
contact of a day. On PostgreSQL the lock is a transaction-scoped advisory lock on a hash of the
borrower id; SQLite has a single writer (write transactions start with BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from ..db.models import RecordedContact
from ..domain.contact_model import Channel, ContactPolicy, ContactRecord, Target

# The first key of the two-key advisory lock: keeps our locks apart from anyone else's.
_LOCK_NAMESPACE = 0x58_44_4E  # "XDN"


def _lock_key(borrower_id: str) -> int:
    digest = hashlib.sha256(borrower_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def lock_borrower(session: Session, borrower_id: str) -> None:
    """Serialise contact decisions of one borrower until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": _LOCK_NAMESPACE, "key": _lock_key(borrower_id)},
        )


def lookback(policy: ContactPolicy) -> timedelta:
    """How far back the policy's windows reach (plus a day of slack for time zones)."""
    days = max(
        policy.attempts_window_days if policy.max_attempts_in_window is not None else 1,
        policy.quiet_days_after_conversation or 1,
        1,
    )
    return timedelta(days=days + 1)


def as_policy_record(row: RecordedContact) -> ContactRecord:
    return ContactRecord(
        channel=Channel(row.channel),
        at=row.at,
        connected=row.connected,
        conversation=row.conversation,
        target=Target(row.target),
        target_id=row.target_id,
        outcome=row.outcome,
        number=row.number_key,
    )


def contact_rows(
    session: Session,
    borrower_id: str,
    since: datetime,
    exclude: Sequence[uuid.UUID] = (),
) -> list[RecordedContact]:
    """The borrower's contacts from every case, user and agency since `since`, plus every
    emergency contact who refused further contact (that holds for ever)."""
    query = select(RecordedContact).where(
        RecordedContact.borrower_id == borrower_id,
        or_(
            RecordedContact.at >= since,
            and_(
                RecordedContact.target == Target.EMERGENCY_CONTACT.value,
                RecordedContact.outcome == "refused",
            ),
        ),
    )
    if exclude:
        query = query.where(RecordedContact.id.not_in(list(exclude)))
    return list(session.scalars(query.order_by(RecordedContact.at)))


def reservations_of(session: Session, outbox_id: uuid.UUID) -> list[RecordedContact]:
    """Contacts of an outbox message whose outcome is still unknown (a send under way, or one
    that a crashed worker never settled)."""
    return list(
        session.scalars(
            select(RecordedContact)
            .where(RecordedContact.outbox_id == outbox_id, RecordedContact.connected.is_(None))
            .order_by(RecordedContact.at)
        )
    )
