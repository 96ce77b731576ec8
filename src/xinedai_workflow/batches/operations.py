"""What one item of a batch does, inside its own unit of work (the case's history gets the entry)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..compliance.pauses import pause_loan, resume_loan
from ..db.models import Batch, BatchItem, Case
from ..definitions.registry import DefinitionRegistry
from ..errors import Conflict, NotFound
from ..history.service import NewEntry, append
from ..migration.service import migrate_case
from ..runtime import ENDED, CaseRuntime
from .schemas import MessageParams, MigrateParams, PauseParams, ReasonParams, RetryParams


class BatchOperations:
    """Runs one item of a batch: a case command, or a contact pause of one loan."""

    def __init__(self, runtime: CaseRuntime, registry: DefinitionRegistry, clock: Clock) -> None:
        self.runtime = runtime
        self.registry = registry
        self.clock = clock

    def run(self, session: Session, batch: Batch, item: BatchItem) -> None:
        """Carry out `item`; a `ServiceError` says why it failed (the caller rolls back and records it)."""
        actor = f"{batch.created_by} (batch {batch.id})"
        now = self.clock.now()
        if batch.operation == "pause_contact":
            self._pause(session, batch, item, actor, now)
            return
        if batch.operation == "resume_contact":
            self._resume(session, batch, item, actor, now)
            return
        case = session.get(Case, item.case_id) if item.case_id is not None else None
        if case is None:
            raise NotFound(f"case {item.case_id} not found")
        if batch.operation == "migrate":
            params = MigrateParams.model_validate(batch.params)
            migrate_case(
                session,
                self.runtime,
                self.registry,
                case,
                params.to_version,
                params.mapping,
                actor,
                self.clock,
                False,
                params.reason,
            )
        elif batch.operation == "cancel":
            reason = ReasonParams.model_validate(batch.params).reason or f"batch {batch.id}"
            self.runtime.cancel(session, case, actor, reason, now)
        elif batch.operation == "retry":
            variables = RetryParams.model_validate(batch.params).variables
            self.runtime.retry(session, case, actor, now, variables)
        elif batch.operation == "message":
            self._message(session, batch, item, case, actor, now)
        else:  # the schema admits no other operation
            raise Conflict(f"unknown operation {batch.operation!r}")

    def _message(
        self, session: Session, batch: Batch, item: BatchItem, case: Case, actor: str, now: datetime
    ) -> None:
        params = MessageParams.model_validate(batch.params)
        message_id = f"batch:{batch.id}:{item.id}"
        correlation = {"loan_id": case.loan_id}
        if case.status == "active" and self.runtime.deliver(
            session, case, params.name, params.payload, correlation, actor, now, message_id
        ):
            return
        if params.ttl_seconds is None:
            raise Conflict(f"the case is not waiting for message {params.name!r}", code="not_waiting")
        expires = now + timedelta(seconds=params.ttl_seconds)
        self.runtime.buffer(
            session, case, params.name, params.payload, correlation, actor, now, message_id, expires
        )

    def _open_cases(self, session: Session, loan_id: str) -> list[Case]:
        return list(
            session.scalars(
                select(Case)
                .where(Case.loan_id == loan_id, Case.status.not_in(sorted(ENDED)))
                .order_by(Case.id)
            )
        )

    def _pause(self, session: Session, batch: Batch, item: BatchItem, actor: str, now: datetime) -> None:
        params = PauseParams.model_validate(batch.params)
        if params.until <= now:
            raise Conflict(
                f"the pause would end ({params.until.isoformat()}) before it starts", code="pause_over"
            )
        pause_loan(session, item.loan_id, params.until, params.reason, actor, now, batch.id)
        data: dict[str, Any] = {
            "until": params.until.isoformat(),
            "reason": params.reason,
            "batch_id": str(batch.id),
        }
        for case in self._open_cases(session, item.loan_id):
            append(session, case, [NewEntry("contact_paused", actor, None, data)], now)
            case.updated_at = now
        session.flush()

    def _resume(self, session: Session, batch: Batch, item: BatchItem, actor: str, now: datetime) -> None:
        reason = ReasonParams.model_validate(batch.params).reason
        lifted = resume_loan(session, item.loan_id, actor, now)
        data = {"pauses_lifted": lifted, "reason": reason, "batch_id": str(batch.id)}
        for case in self._open_cases(session, item.loan_id):
            append(session, case, [NewEntry("contact_resumed", actor, None, data)], now)
            case.updated_at = now
        session.flush()
