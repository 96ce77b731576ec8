"""Service-task calls of a step become outbox rows in the step's transaction (sent later, at least
once, by the worker; the idempotency key lets the channel drop repeats)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from ..channels.operations import channel_for
from ..db.models import Case, OutboxMessage
from ..engine import ServiceCall
from ..history.service import NewEntry
from ..ids import uuid7


def outbox_key(case: Case, call: ServiceCall) -> str:
    """The outbox row's idempotency key: the case and the diagram's `request_id` of the call."""
    return f"{case.id}:{call.request_id}"


def request_id_of(outbox_key: str) -> str:
    """The diagram's `request_id` inside an outbox idempotency key (see `outbox_key`)."""
    return outbox_key.split(":", 1)[1]


def queue_service_calls(
    session: Session, case: Case, calls: Iterable[ServiceCall], now: datetime
) -> list[NewEntry]:
    """Add one pending outbox row per call; return the history entries that record them."""
    entries = []
    for call in calls:
        message = OutboxMessage(
            id=uuid7(),
            case_id=case.id,
            loan_id=case.loan_id,
            channel=channel_for(call.operation),
            operation=call.operation,
            element_id=call.element_id,
            idempotency_key=outbox_key(case, call),
            payload=call.params,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(message)
        entries.append(
            NewEntry(
                "outbox_queued",
                "system",
                call.element_id,
                {"outbox_id": str(message.id), "channel": message.channel, "operation": call.operation},
            )
        )
    return entries
