"""Draining the outbox: at-least-once delivery through a channel, idempotent by key, with backoff."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import Session

from ..channels.base import Channel, DeliveryResult, OutboundMessage
from ..clock import Clock
from ..db.models import Case, OutboxMessage
from ..db.retry import write_with_retry
from ..db.session import Database
from ..history.service import NewEntry, append

MAX_ATTEMPTS = 8


class OutboxDispatcher:
    """Sends leased outbox messages and records the result in the message row and the case history."""

    def __init__(self, db: Database, channels: Mapping[str, Channel], default: Channel, clock: Clock) -> None:
        self.db = db
        self.channels = dict(channels)
        self.default = default
        self.clock = clock

    def dispatch(self, message_id: uuid.UUID) -> bool:
        with self.db.read() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.status != "pending":
                return False
            message = OutboundMessage(
                id=str(row.id),
                channel=row.channel,
                operation=row.operation,
                idempotency_key=row.idempotency_key,
                case_id=str(row.case_id),
                loan_id=row.loan_id,
                payload=dict(row.payload),
            )
        channel = self.channels.get(message.channel, self.default)
        try:
            result = channel.send(message)
        except Exception as err:
            result = DeliveryResult(False, error=f"{type(err).__name__}: {err}", retryable=True)
        write_with_retry(self.db, lambda session: self._record(session, message_id, result))
        return result.delivered

    def _record(self, session: Session, message_id: uuid.UUID, result: DeliveryResult) -> None:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return
        now = self.clock.now()
        row.attempts += 1
        row.lease_owner = row.lease_until = None
        case = session.get(Case, row.case_id)
        if result.delivered:
            row.status = "sent"
            row.sent_at = now
            row.result = {"reference": result.reference, **(result.detail or {})}
            data = {"outbox_id": str(row.id), "channel": row.channel, "reference": result.reference}
            entry = NewEntry("contact_sent", "system:outbox", row.element_id, data)
        elif not result.retryable or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            row.last_error = result.error
            data = {"outbox_id": str(row.id), "channel": row.channel, "error": result.error}
            entry = NewEntry("contact_failed", "system:outbox", row.element_id, data)
        else:
            row.last_error = result.error
            row.next_attempt_at = now + timedelta(seconds=min(3600, 5 * 2**row.attempts))
            return
        if case is not None:
            append(session, case, [entry], now)
            case.updated_at = now
