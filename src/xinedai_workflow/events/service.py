"""Overdue events start or update cases; payments and messages move them. All idempotent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..cases import repository as cases
from ..clock import Clock
from ..db.bulk import insert_new_in_bulk
from ..db.idempotency import Answer
from ..db.models import Case
from ..db.unit_of_work import Key, UnitOfWork
from ..definitions.registry import DefinitionRegistry
from ..domain.strategy import StrategySplit
from ..engine import ProcessDefinition
from ..errors import Conflict, Invalid, NotFound, ServiceError
from ..history.service import NewEntry, append
from ..runtime import CaseRuntime
from .schemas import MessageIn, OverdueEvent, PaymentEvent

BATCH_CHUNK = 250


# (session, case, event_id, amount, paid_at): runs inside the payment's unit of work
PaymentHook = Callable[[Session, Case, str, str, datetime], None]


def overdue_variables(event: OverdueEvent) -> dict[str, Any]:
    """The case variables an overdue event starts (or updates) a case with."""
    data = event.model_dump(mode="json")
    # the amount overdue at case open, for the recovery-rate KPI
    data["overdue_amount"] = str(Decimal(event.overdue_principal) + Decimal(event.overdue_interest))
    return data


def overdue_key(event: OverdueEvent) -> Key:
    return Key("overdue", event.event_id, event.model_dump(mode="json"), replay_status=200)


class EventService:
    """What other bank systems call: overdue, payment and message events."""

    def __init__(
        self,
        uow: UnitOfWork,
        registry: DefinitionRegistry,
        runtime: CaseRuntime,
        clock: Clock,
        default_process_key: str,
        buffer_ttl_seconds: int,
        max_batch_events: int = 10_000,
        strategy: StrategySplit | None = None,
        payment_hooks: Sequence[PaymentHook] = (),
    ) -> None:
        self.uow = uow
        self.strategy = strategy
        self.max_batch_events = max_batch_events
        self.payment_hooks = tuple(payment_hooks)  # e.g. agency commission, in the same transaction
        self.registry = registry
        self.runtime = runtime
        self.clock = clock
        self.default_key = default_process_key
        self.buffer_ttl = timedelta(seconds=buffer_ttl_seconds) if buffer_ttl_seconds else None

    # -- overdue ------------------------------------------------------------------------------
    def overdue(self, event: OverdueEvent, actor: str) -> Answer:
        return self.uow.write(lambda session: self._overdue(session, event, actor))

    def _overdue(self, session: Session, event: OverdueEvent, actor: str) -> Answer:
        answer = self.uow.answer_once(
            session, overdue_key(event), lambda s: self._update_or_open(s, event, actor)
        )
        insert_new_in_bulk(session)  # a new case's rows, as multi-row INSERTs
        return answer

    def _update_or_open(self, session: Session, event: OverdueEvent, actor: str) -> Answer:
        """Deliver the update to the loan's collecting case, else open a case: the loan's first, or
        a new episode after earlier cases whose collection is over (those in review stay as they are)."""
        case = cases.singleton_case(session, self.default_key, event.loan_id)
        if case is None:
            prior = cases.prior_case_counts(session, self.default_key, [event.loan_id]).get(event.loan_id, 0)
            definition, variant = self.definition_for(session, event.loan_id)
            return self._open(session, event, actor, definition, variant, prior)
        if case.status == "error":
            return self._hold_for_incident(session, case, event, actor)
        self.runtime.deliver_or_buffer(
            session,
            case,
            "overdue_updated",
            overdue_variables(event),
            {"loan_id": event.loan_id},
            actor,
            self.clock.now(),
            event.event_id,
            self.buffer_ttl,
        )
        return Answer(200, {"case_id": str(case.id), "status": case.status})

    def _hold_for_incident(self, session: Session, case: Case, event: OverdueEvent, actor: str) -> Answer:
        """The loan's case is in error: keep the update on it with no expiry (delivered once the case
        is retried or moved to a working version and waits again) and record it on the incident.
        A second case is not opened: it would collect the same loan twice."""
        now = self.clock.now()
        self.runtime.buffer(
            session,
            case,
            "overdue_updated",
            overdue_variables(event),
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

    def definition_for(self, session: Session, loan_id: str) -> tuple[ProcessDefinition, str | None]:
        """The version a new case of `loan_id` starts on, and its champion/challenger variant:
        the latest version, or with a strategy split the version of the loan's share."""
        if self.strategy is None:
            return self.registry.latest(session, self.default_key), None
        share = self.strategy.share_of(loan_id)
        return self.registry.version(session, self.default_key, share.version), share.label

    def _open(
        self,
        session: Session,
        event: OverdueEvent,
        actor: str,
        definition: ProcessDefinition,
        variant: str | None = None,
        prior_cases: int = 0,
    ) -> Answer:
        """Start a case of the loan (the caller knows it has no collecting one); its rows stay pending.
        After `prior_cases` earlier cases the diagram gets `prior_overdue_count` (a repeat episode)."""
        variables = overdue_variables(event)
        if prior_cases:
            variables["prior_overdue_count"] = prior_cases
        case = self.runtime.open(
            session,
            definition,
            event.loan_id,
            variables,
            actor,
            self.clock.now(),
            singleton_key=cases.singleton_key(self.default_key, event.loan_id),
            start_data={"event_id": event.event_id, "variables": variables},
            flush=False,
        )
        case.variant = variant
        return Answer(201, {"case_id": str(case.id), "status": case.status})

    def overdue_batch(self, raw_events: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        """Each event answered as the single endpoint would; chunks share a transaction, each event
        runs in its own savepoint so one bad event does not undo the others."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(raw_events), BATCH_CHUNK):
            chunk = raw_events[start : start + BATCH_CHUNK]
            results.extend(self.uow.write(lambda s, c=chunk: self._batch_chunk(s, c, actor)))  # type: ignore[misc]
        return results

    def _batch_chunk(self, session: Session, chunk: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        """Events of loans without a collecting case and with an unseen event id (the nightly common
        case) start their case with no per-event reads and no savepoint, and are written in one flush
        at the end; the rest (replays, updates of collecting cases) take the single endpoint's path in
        a savepoint each."""
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
        known_ids = cases.known_event_ids(session, "overdue", (e.event_id for _, e in events))
        busy_loans = cases.loans_with_singleton(session, self.default_key, (e.loan_id for _, e in events))
        priors = cases.prior_case_counts(session, self.default_key, (e.loan_id for _, e in events))
        definition: ProcessDefinition | None = None
        for index, event in events:
            try:
                if event.event_id in known_ids or event.loan_id in busy_loans:
                    insert_new_in_bulk(session)  # the new cases so far, before the savepoint's flush
                    with session.begin_nested():
                        answer = self._overdue(session, event, actor)
                else:
                    prior = priors.get(event.loan_id, 0)
                    if self.strategy is None:
                        definition = definition or self.registry.latest(session, self.default_key)
                        answer = self._open(session, event, actor, definition, None, prior)
                    else:
                        answer = self._open(
                            session, event, actor, *self.definition_for(session, event.loan_id), prior
                        )
                    self.uow.remember(session, overdue_key(event), answer)
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
        body = event.model_dump(mode="json")
        key = Key("payment", event.event_id, body, replay_status=202)
        return self.uow.once(key, lambda session: self._payment(session, event, body, actor))

    def _payment(self, session: Session, event: PaymentEvent, body: dict[str, Any], actor: str) -> Answer:
        # the loan's collecting case first: an earlier case still in review may catch payments too,
        # but a payment belongs to the episode being collected
        case = (
            cases.singleton_case(session, self.default_key, event.loan_id)
            or cases.waiting_case(session, "payment_received", event.loan_id)
            or cases.active_case(session, self.default_key, event.loan_id)
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
            self.clock.now(),
            event.event_id,
            self.buffer_ttl,
        )
        for hook in self.payment_hooks:
            hook(session, case, event.event_id, event.amount, event.paid_at)
        return Answer(202, {"case_id": str(case.id)})

    # -- generic messages ---------------------------------------------------------------------
    def message(self, message: MessageIn, actor: str) -> Answer:
        key = Key("message", message.message_id, message.model_dump(mode="json"), replay_status=202)
        return self.uow.once(key, lambda session: self._message(session, message, actor))

    def _message(self, session: Session, message: MessageIn, actor: str) -> Answer:
        loan_id = message.correlation.get("loan_id")
        if not isinstance(loan_id, str) or not loan_id:
            raise Invalid(
                "correlation must contain loan_id",
                details=[{"field": "correlation.loan_id", "message": "required"}],
            )
        now = self.clock.now()
        case = cases.waiting_case(session, message.name, loan_id)
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
            case = cases.active_case(session, self.default_key, loan_id)
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
        return Answer(202, {"case_id": str(case.id)})


def _batch_error(event_id: Any, err: ServiceError) -> dict[str, Any]:
    return {
        "event_id": event_id if isinstance(event_id, str) else None,
        "http_status": err.status,
        "case_id": None,
        "error": {"code": err.code, "message": err.message, "details": err.details},
    }
