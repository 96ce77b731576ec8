"""Draining the outbox: at-least-once delivery through a channel, idempotent by key, with backoff.

Every message that contacts a person passes the contact policy in force first (the guard), in
a transaction that holds the borrower's lock:

- allow: the contact is reserved (it counts at once), the message is sent, and the outcome is
  recorded with the decision and the policy version in the case history (`contact_sent`);
- defer: the message waits until the policy's next allowed moment (`contact_deferred`);
- drop: the message is never sent (`contact_dropped`).

Messages that contact nobody (e.g. the mediation report) are sent as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..channels.base import Channel, DeliveryResult, OutboundMessage
from ..clock import Clock
from ..compliance.guard import Admission, ContactGuard
from ..db.models import Case, OutboxMessage
from ..db.unit_of_work import UnitOfWork
from ..domain.contact_model import Action
from ..history.service import NewEntry, append
from ..runtime import ENDED, CaseRuntime, request_id_of

MAX_ATTEMPTS = 8
OUTBOX_ACTOR = "system:outbox"
# Notices whose delivery proof belongs in the evidence package (not e.g. the mediator report).
RECEIPTED_OPERATIONS = frozenset({"send_sms", "send_email", "send_registered_mail"})
RECEIPT_BUFFER_TTL = timedelta(days=30)


@dataclass(frozen=True)
class _Cleared:
    """A message the policy let through (or that contacts nobody), ready to send."""

    message: OutboundMessage
    admission: Admission | None


def _outbound(row: OutboxMessage) -> OutboundMessage:
    return OutboundMessage(
        id=str(row.id),
        channel=row.channel,
        operation=row.operation,
        idempotency_key=row.idempotency_key,
        case_id=str(row.case_id),
        loan_id=row.loan_id,
        payload=dict(row.payload),
    )


class OutboxDispatcher:
    """Sends leased outbox messages and records the result in the message row and the case history."""

    def __init__(
        self,
        uow: UnitOfWork,
        channels: Mapping[str, Channel],
        default: Channel,
        clock: Clock,
        guard: ContactGuard | None = None,
        worker: str | None = None,
        runtime: CaseRuntime | None = None,
    ) -> None:
        self.uow = uow
        self.channels = dict(channels)
        self.default = default
        self.clock = clock
        self.guard = guard
        self.worker = worker  # named in the history, so operators see which worker sent what
        self.runtime = runtime  # delivers the channel's own delivery confirmations to the case

    def dispatch(self, message_id: uuid.UUID) -> bool:
        """Pass one message through the policy and send it; True when it was delivered."""
        cleared = self.uow.write(lambda session: self._clear(session, message_id))
        if cleared is None:
            return False
        channel = self.channels.get(cleared.message.channel, self.default)
        try:
            result = channel.send(cleared.message)
        except Exception as err:
            result = DeliveryResult(False, error=f"{type(err).__name__}: {err}", retryable=True)
        self.uow.write(lambda session: self._record(session, message_id, result, cleared.admission))
        return result.delivered

    # -- before sending: the contact policy ------------------------------------------------------
    def _clear(self, session: Session, message_id: uuid.UUID) -> _Cleared | None:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return None
        case = session.get(Case, row.case_id)
        admission = None
        if self.guard is not None and case is not None:
            admission = self.guard.admit_outbound(session, row, case, self.clock.now())
        if admission is not None and not admission.allowed:
            self._blocked(session, row, case, admission)
            return None
        return _Cleared(_outbound(row), admission)

    def _blocked(self, session: Session, row: OutboxMessage, case: Case | None, admission: Admission) -> None:
        now = self.clock.now()
        decision = admission.decision
        row.lease_owner = row.lease_until = None
        data: dict[str, Any] = {
            "outbox_id": str(row.id),
            "channel": row.channel,
            "operation": row.operation,
            "contact_channel": admission.attempt.channel.value,
            "target": admission.attempt.target.value,
            "decision": admission.record(),
            "worker": self.worker,
        }
        if decision.action is Action.DEFER and decision.next_allowed_at is not None:
            row.next_attempt_at = decision.next_allowed_at
            data["next_attempt_at"] = decision.next_allowed_at.isoformat()
            action = "contact_deferred"
        else:
            row.status = "dropped"
            row.last_error = f"dropped by the contact policy: {decision.reason}"[:2000]
            row.result = {"dropped": admission.record()}
            action = "contact_dropped"
        if case is not None:
            append(session, case, [NewEntry(action, OUTBOX_ACTOR, row.element_id, data)], now)
            case.updated_at = now

    # -- after sending -------------------------------------------------------------------------
    def _record(
        self, session: Session, message_id: uuid.UUID, result: DeliveryResult, admission: Admission | None
    ) -> None:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return
        now = self.clock.now()
        row.attempts += 1
        row.lease_owner = row.lease_until = None
        if admission is not None and admission.contact_id is not None:
            ContactGuard.settle_outbound(session, admission.contact_id, result.delivered)
        case = session.get(Case, row.case_id)
        policy = {**_policy_data(admission), "worker": self.worker}
        if result.delivered:
            row.status = "sent"
            row.sent_at = now
            row.result = {"reference": result.reference, **(result.detail or {})}
            data = {"outbox_id": str(row.id), "channel": row.channel, "reference": result.reference, **policy}
            entry = NewEntry("contact_sent", OUTBOX_ACTOR, row.element_id, data)
        elif not result.retryable or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            row.last_error = result.error
            data = {"outbox_id": str(row.id), "channel": row.channel, "error": result.error, **policy}
            entry = NewEntry("contact_failed", OUTBOX_ACTOR, row.element_id, data)
        else:
            # the next attempt passes the policy again (quiet hours may have begun meanwhile)
            row.last_error = result.error
            row.next_attempt_at = _backoff(now, row.attempts)
            return
        if case is not None:
            append(session, case, [entry], now)
            case.updated_at = now
            if result.delivered and result.confirmed:
                self._confirm(session, case, row, result, now)

    def _confirm(
        self, session: Session, case: Case, row: OutboxMessage, result: DeliveryResult, now: datetime
    ) -> None:
        """The channel confirmed delivery: tell the case as a carrier receipt would (`notice_delivered`)."""
        if self.runtime is None or row.operation not in RECEIPTED_OPERATIONS or case.status in ENDED:
            return
        receipt = {
            "request_id": request_id_of(row.idempotency_key),
            "channel": row.channel,
            "reference": result.reference,
            "carrier": (result.detail or {}).get("carrier", "local-sink"),
            "delivered_at": now.isoformat(),
        }
        self.runtime.deliver_or_buffer(
            session,
            case,
            "notice_delivered",
            receipt,
            {"loan_id": row.loan_id},
            OUTBOX_ACTOR,
            now,
            f"receipt:{row.idempotency_key}",
            RECEIPT_BUFFER_TTL,
        )


def _backoff(now: datetime, attempts: int) -> datetime:
    return now + timedelta(seconds=min(3600, 5 * 2**attempts))


def _policy_data(admission: Admission | None) -> dict[str, Any]:
    if admission is None:
        return {}
    return {
        "contact_id": str(admission.contact_id) if admission.contact_id else None,
        "contact_channel": admission.attempt.channel.value,
        "decision": admission.record(),
    }
