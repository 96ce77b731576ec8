"""Queries on agencies, placements and commission rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..db.models import Agency, BlockedContact, Commission, Complaint, Placement, RecordedContact


def active_placement(session: Session, case_id: uuid.UUID) -> Placement | None:
    """The case's placement in force (at most one)."""
    return session.scalar(select(Placement).where(Placement.active_key == case_id))


def placement_at(session: Session, case_id: uuid.UUID, at: datetime) -> Placement | None:
    """The placement the case was under at `at` (a payment made during it earns commission)."""
    return session.scalar(
        select(Placement)
        .where(
            Placement.case_id == case_id,
            Placement.placed_at <= at,
            or_(Placement.recalled_at.is_(None), Placement.recalled_at > at),
        )
        .order_by(Placement.placed_at.desc())
        .limit(1)
    )


def active_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Placement.agency_id, func.count())
        .where(Placement.active_key.is_not(None))
        .group_by(Placement.agency_id)
    )
    return {agency: int(n) for agency, n in rows}


def placements_of(session: Session, agency_id: str, active_only: bool) -> list[Placement]:
    query = select(Placement).where(Placement.agency_id == agency_id)
    if active_only:
        query = query.where(Placement.active_key.is_not(None))
    return list(session.scalars(query.order_by(Placement.placed_at, Placement.id)))


def overlapping(session: Session, agency_id: str, start: datetime, end: datetime) -> list[Placement]:
    """Placements of the agency in force at some moment of [start, end)."""
    return list(
        session.scalars(
            select(Placement).where(
                Placement.agency_id == agency_id,
                Placement.placed_at < end,
                or_(Placement.recalled_at.is_(None), Placement.recalled_at > start),
            )
        )
    )


def commissions_on(session: Session, agency_id: str, day: date) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.agency_id == agency_id, Commission.business_date == day)
            .order_by(Commission.paid_at, Commission.id)
        )
    )


def commissions_between(session: Session, agency_id: str, first: date, last: date) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission).where(
                Commission.agency_id == agency_id,
                Commission.business_date >= first,
                Commission.business_date <= last,
            )
        )
    )


def agency_contacts(session: Session, agency_id: str, first: date, last: date) -> Sequence[RecordedContact]:
    return session.scalars(
        select(RecordedContact).where(
            RecordedContact.agency_id == agency_id,
            RecordedContact.local_date >= first,
            RecordedContact.local_date <= last,
        )
    ).all()


def agency_blocks(session: Session, agency_id: str, first: date, last: date) -> Sequence[BlockedContact]:
    return session.scalars(
        select(BlockedContact).where(
            BlockedContact.agency_id == agency_id,
            BlockedContact.local_date >= first,
            BlockedContact.local_date <= last,
        )
    ).all()


def complaint_count(session: Session, agency_id: str, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Complaint.agency_id == agency_id, Complaint.received_at >= start, Complaint.received_at < end
            )
        )
        or 0
    )


def expired_placements(session: Session, today: date) -> list[tuple[Placement, Agency]]:
    """Placements still in force with an agency whose contract has ended (or was terminated)."""
    rows = session.execute(
        select(Placement, Agency)
        .join(Agency, Agency.id == Placement.agency_id)
        .where(
            Placement.active_key.is_not(None),
            or_(Agency.contract_end < today, Agency.status != "active"),
        )
    )
    return [(p, a) for p, a in rows]
