"""Overdue events start or update cases; payments and messages move them. All idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.runtime import CaseRuntime
from ..clock import Clock
from ..db.bulk import insert_new_in_bulk
from ..db.models import Case, IdempotencyKey, MessageSubscription
from ..db.retry import write_with_retry
from ..db.session import Database
from ..definitions.registry import DefinitionRegistry
from ..engine import ProcessDefinition
from ..errors import Conflict, Invalid, NotFound, ServiceError
from ..history.service import NewEntry, append
from ..idempotency import Answer, remember, replay
from .schemas import MessageIn, OverdueEvent, PaymentEvent

BATCH_CHUNK = 250


def overdue_variables(event: OverdueEvent) -> dict[str, Any]:
    """The case variables an overdue event starts (or updates) a case with."""
    data = event.model_dump(mode="json")
    # the amount overdue at case open, for the recovery-rate KPI
    data["overdue_amount"] = str(Decimal(event.overdue_principal) + Decimal(event.overdue_interest))
    return data


class EventService:
    """What other bank systems call: overdue, payment and message events."""

    def __init__(
        self,
        db: Database,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        clock: Clock,
        default_process_key: str,
        buffer_ttl_seconds: int,
    ) -> None:
        self.db = db
        self.registry = registry
        self.runtime = runtime
        self.clock = clock
        self.default_key = default_process_key
        self.buffer_ttl = timedelta(seconds=buffer_ttl_seconds) if buffer_ttl_seconds else None

    # -- overdue ------------------------------------------------------------------------------
    def overdue(self, event: OverdueEvent, actor: str) -> Answer:
        return write_with_retry(self.db, lambda session: self._overdue(session, event, actor))

    def _overdue(self, session: Session, event: OverdueEvent, actor: str) -> Answer:
        body = event.model_dump(mode="json")
        previous = replay(session, "overdue", event.event_id, body, 200)
        if previous is not None:
            return previous
        now = self.clock.now()
        singleton = f"{self.default_key}:{event.loan_id}"
        case = session.scalars(select(Case).where(Case.singleton_key == singleton)).first()
        variables = overdue_variables(event)
        if case is not None and case.status == "error":
            answer = self._hold_for_incident(session, case, event, variables, actor, now)
        elif case is not None:
            self.runtime.deliver_or_buffer(
                session,
                case,
                "overdue_updated",
                variables,
                {"loan_id": event.loan_id},
                actor,
                now,
                event.event_id,
                self.buffer_ttl,
            )
            answer = Answer(200, {"case_id": str(case.id), "status": case.status})
        else:
            definition = self.registry.latest(session, self.default_key)
            opened = self._open_case(session, event, body, actor, definition, flush=False)
            insert_new_in_bulk(session)
            return opened
        remember(session, "overdue", event.event_id, body, answer, case.id, now)
        return answer

    def _hold_for_incident(
        self,
        session: Session,
        case: Case,
        event: OverdueEvent,
        variables: dict[str, Any],
        actor: str,
        now: datetime,
    ) -> Answer:
        """The loan's case is in error: keep the update on it with no expiry (delivered once the case
        is retried or moved to a working version and waits again) and record it on the incident.
        A second case is not opened: it would collect the same loan twice."""
        self.runtime.buffer(
            session,
            case,
            "overdue_updated",
            variables,
            {"loan_id": event.loan_id},
            actor,
            now,
            event.event_id,
            None,
        )
        entry = NewEntry(
            "incident_event_held",
            actor,
            case.error_element_id,
            {"event_id": event.event_id, "error": case.error_message, "days_past_due": event.days_past_due},
        )
        append(session, case, [entry], now)
        session.flush()
        return Answer(200, {"case_id": str(case.id), "status": case.status, "incident": True})

    def _open_case(
        self,
        session: Session,
        event: OverdueEvent,
        body: dict[str, Any],
        actor: str,
        definition: ProcessDefinition,
        flush: bool = True,
    ) -> Answer:
        """Start the loan's case (the caller knows it has none) and remember the answer."""
        now = self.clock.now()
        variables = overdue_variables(event)
        case = self.runtime.start(
            session,
            definition,
            event.loan_id,
            variables,
            actor,
            now,
            singleton_key=f"{self.default_key}:{event.loan_id}",
            start_data={"event_id": event.event_id, "variables": variables},
            flush=flush,
        )
        answer = Answer(201, {"case_id": str(case.id), "status": case.status})
        remember(session, "overdue", event.event_id, body, answer, case.id, now)
        return answer

    def overdue_batch(self, raw_events: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        """Each event answered as the single endpoint would; chunks share a transaction, each event
        runs in its own savepoint so one bad event does not undo the others."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(raw_events), BATCH_CHUNK):
            chunk = raw_events[start : start + BATCH_CHUNK]
            results.extend(write_with_retry(self.db, lambda s, c=chunk: self._batch_chunk(s, c, actor)))  # type: ignore[misc]
        return results

    def _batch_chunk(self, session: Session, chunk: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        """Events of loans without a case and with an unseen event id (the nightly common case) start
        their case with no reads and no savepoint, and are written in one flush at the end; the rest
        (replays, updates of running cases) take the single endpoint's path in a savepoint each."""
        out: list[dict[str, Any]] = []
        events: list[tuple[int, OverdueEvent]] = []
        for raw in chunk:
            try:
                events.append((len(out), OverdueEvent.model_validate(raw)))
                out.append({})
            except ValidationError as err:
                details = [
                    {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
                    for e in err.errors(include_url=False, include_input=False)
                ]
                event_id = raw.get("event_id") if isinstance(raw, dict) else None
                out.append(_batch_error(event_id, Invalid("invalid overdue event", details=details)))
        singleton = f"{self.default_key}:"
        known_ids = set(
            session.scalars(
                select(IdempotencyKey.key).where(
                    IdempotencyKey.scope == "overdue", IdempotencyKey.key.in_({e.event_id for _, e in events})
                )
            )
        )
        busy_loans = {
            key.removeprefix(singleton)
            for key in session.scalars(
                select(Case.singleton_key).where(
                    Case.singleton_key.in_({singleton + e.loan_id for _, e in events})
                )
            )
            if key is not None
        }
        definition: ProcessDefinition | None = None
        for index, event in events:
            try:
                if event.event_id in known_ids or event.loan_id in busy_loans:
                    insert_new_in_bulk(session)  # the new cases so far, before the savepoint's flush
                    with session.begin_nested():
                        answer = self._overdue(session, event, actor)
                else:
                    definition = definition or self.registry.latest(session, self.default_key)
                    body = event.model_dump(mode="json")
                    answer = self._open_case(session, event, body, actor, definition, flush=False)
                out[index] = {
                    "event_id": event.event_id,
                    "http_status": answer.status,
                    "case_id": answer.body.get("case_id"),
                    "error": None,
                }
            except ServiceError as err:
                out[index] = _batch_error(event.event_id, err)
            known_ids.add(event.event_id)
            busy_loans.add(event.loan_id)
        insert_new_in_bulk(session)
        return out

    # -- payments -----------------------------------------------------------------------------
    def payment(self, event: PaymentEvent, actor: str) -> Answer:
        return write_with_retry(self.db, lambda session: self._payment(session, event, actor))

    def _payment(self, session: Session, event: PaymentEvent, actor: str) -> Answer:
        body = event.model_dump(mode="json")
        previous = replay(session, "payment", event.event_id, body, 202)
        if previous is not None:
            return previous
        now = self.clock.now()
        case = self._waiting_case(session, "payment_received", event.loan_id) or self._active_case(
            session, event.loan_id
        )
        if case is None:
            raise NotFound(f"loan {event.loan_id!r} has no active case", code="no_active_case")
        self.runtime.deliver_or_buffer(
            session,
            case,
            "payment_received",
            body,
            {"loan_id": event.loan_id},
            actor,
            now,
            event.event_id,
            self.buffer_ttl,
        )
        answer = Answer(202, {"case_id": str(case.id)})
        remember(session, "payment", event.event_id, body, answer, case.id, now)
        return answer

    # -- generic messages ---------------------------------------------------------------------
    def message(self, message: MessageIn, actor: str) -> Answer:
        return write_with_retry(self.db, lambda session: self._message(session, message, actor))

    def _message(self, session: Session, message: MessageIn, actor: str) -> Answer:
        body = message.model_dump(mode="json")
        previous = replay(session, "message", message.message_id, body, 202)
        if previous is not None:
            return previous
        loan_id = message.correlation.get("loan_id")
        if not isinstance(loan_id, str) or not loan_id:
            raise Invalid(
                "correlation must contain loan_id",
                details=[{"field": "correlation.loan_id", "message": "required"}],
            )
        now = self.clock.now()
        case = self._waiting_case(session, message.name, loan_id)
        if case is not None:
            if not self.runtime.deliver(
                session,
                case,
                message.name,
                message.payload,
                message.correlation,
                actor,
                now,
                message.message_id,
            ):
                raise Conflict(f"case {case.id} stopped waiting for {message.name!r}", code="not_waiting")
        elif message.ttl_seconds:
            case = self._active_case(session, loan_id)
            if case is None:
                raise Conflict(
                    f"no case of loan {loan_id!r} waits for {message.name!r}", code="no_waiting_case"
                )
            self.runtime.buffer(
                session,
                case,
                message.name,
                message.payload,
                message.correlation,
                actor,
                now,
                message.message_id,
                now + timedelta(seconds=message.ttl_seconds),
            )
        else:
            raise Conflict(
                f"no case waits for message {message.name!r} of loan {loan_id!r}", code="no_waiting_case"
            )
        answer = Answer(202, {"case_id": str(case.id)})
        remember(session, "message", message.message_id, body, answer, case.id, now)
        return answer

    # -- shared -------------------------------------------------------------------------------
    @staticmethod
    def _waiting_case(session: Session, name: str, loan_id: str) -> Case | None:
        """The oldest active case of the loan with a wait state catching `name`."""
        case_id = session.scalars(
            select(MessageSubscription.case_id)
            .join(Case, Case.id == MessageSubscription.case_id)
            .where(
                MessageSubscription.name == name,
                MessageSubscription.correlation_value == loan_id,
                Case.status == "active",
            )
            .order_by(MessageSubscription.case_created_at, MessageSubscription.case_id)
            .limit(1)
        ).first()
        return session.get(Case, case_id) if case_id is not None else None

    def _active_case(self, session: Session, loan_id: str) -> Case | None:
        """The loan's running default-process case, else its oldest active or failed case."""
        singleton = session.scalars(
            select(Case).where(Case.singleton_key == f"{self.default_key}:{loan_id}")
        ).first()
        if singleton is not None:
            return singleton
        return session.scalars(
            select(Case)
            .where(Case.loan_id == loan_id, Case.status.in_(("active", "error")))
            .order_by(Case.created_at, Case.id)
            .limit(1)
        ).first()


def _batch_error(event_id: Any, err: ServiceError) -> dict[str, Any]:
    return {
        "event_id": event_id if isinstance(event_id, str) else None,
        "http_status": err.status,
        "case_id": None,
        "error": {"code": err.code, "message": err.message, "details": err.details},
    }
