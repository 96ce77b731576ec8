"""Queries on complaints."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Complaint


def open_complaints(session: Session, case_id: uuid.UUID) -> list[Complaint]:
    return list(
        session.scalars(
            select(Complaint)
            .where(Complaint.case_id == case_id, Complaint.status == "open")
            .order_by(Complaint.id)
        )
    )


def complaint_counts(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Complaints received in [start, end): total, open, per agency and per collector."""
    rows = session.execute(
        select(Complaint.agency_id, Complaint.collector, Complaint.status).where(
            Complaint.received_at >= start, Complaint.received_at < end
        )
    ).all()
    by_agency = Counter(r.agency_id or "bank" for r in rows)
    by_collector = Counter(r.collector for r in rows if r.collector)
    return {
        "total": len(rows),
        "open": sum(1 for r in rows if r.status == "open"),
        "by_agency": dict(sorted(by_agency.items())),
        "by_collector": dict(sorted(by_collector.items())),
    }
