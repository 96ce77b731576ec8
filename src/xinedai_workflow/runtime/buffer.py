"""Messages a case did not wait for when they came (payments, updates, `ttl_seconds` messages):
kept as rows until a wait state of the case catches them, they expire, or the case ends."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.models import BufferedMessage
from ..engine.serializer import to_json_value
from ..history.service import NewEntry


def keep(
    session: Session,
    case_id: uuid.UUID,
    name: str,
    payload: Mapping[str, Any],
    correlation: Mapping[str, Any],
    message_id: str,
    now: datetime,
    expires_at: datetime | None,
) -> None:
    session.add(
        BufferedMessage(
            case_id=case_id,
            message_id=message_id,
            name=name,
            payload=to_json_value(dict(payload)),
            correlation=to_json_value(dict(correlation)),
            received_at=now,
            expires_at=expires_at,
        )
    )


def take_next(session: Session, case_id: uuid.UUID, waiting_for: Collection[str]) -> BufferedMessage | None:
    """Remove and return the oldest buffered message the case waits for (None if there is none)."""
    if not waiting_for:
        return None
    pending = session.scalars(
        select(BufferedMessage)
        .where(BufferedMessage.case_id == case_id, BufferedMessage.name.in_(sorted(waiting_for)))
        .order_by(BufferedMessage.id)
        .limit(1)
    ).first()
    if pending is not None:
        session.delete(pending)
    return pending


def drop_all(session: Session, case_id: uuid.UUID) -> list[NewEntry]:
    """Remove every buffered message of an ended case; return the history entries recording it."""
    dropped = list(session.scalars(select(BufferedMessage).where(BufferedMessage.case_id == case_id)))
    if not dropped:
        return []
    session.execute(delete(BufferedMessage).where(BufferedMessage.case_id == case_id))
    return [
        NewEntry("buffered_message_dropped", "system", None, {"name": m.name, "message_id": m.message_id})
        for m in dropped
    ]
