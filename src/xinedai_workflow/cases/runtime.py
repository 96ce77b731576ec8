"""Every change to a case goes through here: load → engine step → save state and derived rows.

Each public method works inside the caller's unit of work (one transaction): the engine step, the
case row (optimistic lock on `lock_version`), open human tasks, timers, message subscriptions,
history entries and outbox rows are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import isodate
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..channels.operations import channel_for
from ..db.bulk import insert_new_in_bulk
from ..db.models import BufferedMessage, Case, HumanTask, MessageSubscription, OutboxMessage, Timer
from ..db.models.cases import NO_DUE_DATE
from ..definitions.registry import DefinitionRegistry
from ..engine import (
    Instance,
    ProcessDefinition,
    RuntimeContext,
    ServiceCall,
    Snapshot,
    TaskNotReady,
    WaitingTimer,
    fire_many,
    load_instance,
    start_instance,
)
from ..engine.serializer import to_json_value
from ..errors import Conflict
from ..history.service import NewEntry, append
from ..ids import uuid7
from .derived import DerivedRows, load_derived

ENDED = ("completed", "cancelled")


def outbox_key(case: Case, call: ServiceCall) -> str:
    """The outbox row's idempotency key: the case and the diagram's `request_id` of the call."""
    return f"{case.id}:{call.request_id}"


def request_id_of(outbox_key: str) -> str:
    """The diagram's `request_id` inside an outbox idempotency key (see `outbox_key`)."""
    return outbox_key.split(":", 1)[1]


class CaseRuntime:
    """Runs engine steps on cases and keeps the derived rows in step with the state."""

    def __init__(self, registry: DefinitionRegistry, ctx: RuntimeContext) -> None:
        self.registry = registry
        self.ctx = ctx

    # -- starting -----------------------------------------------------------------------------
    def start(
        self,
        session: Session,
        definition: ProcessDefinition,
        loan_id: str,
        variables: Mapping[str, Any],
        actor: str,
        now: datetime,
        singleton_key: str | None = None,
        start_data: Any = None,
        flush: bool = True,
    ) -> Case:
        """Create a case and run it to its first wait state. With ``flush=False`` the rows stay
        pending so a batch of new cases goes to the database in a few multi-row statements."""
        instance = start_instance(definition, variables, now, self.ctx)
        case = Case(
            id=uuid7(),
            loan_id=loan_id,
            process_key=definition.key,
            process_version_id=definition.id,
            definition_version=definition.version,
            status="active",
            stage=None,
            outcome=None,
            state="",
            variables={},
            singleton_key=singleton_key,
            history_seq=0,
            history_head="",
            created_at=now,
            updated_at=now,
            created_by=actor,
        )
        session.add(case)
        entry = NewEntry(
            "case_started", actor, None, start_data if start_data is not None else {"variables": variables}
        )
        # a new case has no derived rows and no buffered messages: nothing to read back
        self._save(
            session, case, instance, now, [entry], derived=DerivedRows(has_buffered=False), flush=flush
        )
        return case

    # -- steps on an existing case ------------------------------------------------------------
    def load(self, session: Session, case: Case) -> Instance:
        definition = self.registry.get(session, case.process_version_id)
        return load_instance(definition, case.state, self.ctx)

    def complete_task(
        self,
        session: Session,
        case: Case,
        task: HumanTask,
        data: Mapping[str, Any],
        actor: str,
        now: datetime,
    ) -> None:
        instance = self.load(session, case)
        try:
            instance.complete_task(task.id, data, now)
        except TaskNotReady as err:
            raise Conflict("the task is no longer open", code="task_not_open") from err
        if instance.rolled_back:  # the step was stopped and undone: the task stays open, case → error
            self._save(session, case, instance, now, [])
            return
        task.status = "completed"
        task.ended_at = now
        task.completed_by = actor
        entry = NewEntry(
            "task_completed", actor, task.element_id, {"task_id": str(task.id), "data": dict(data)}
        )
        self._save(session, case, instance, now, [entry])

    def deliver(
        self,
        session: Session,
        case: Case,
        name: str,
        payload: Mapping[str, Any],
        correlation: Mapping[str, Any],
        actor: str,
        now: datetime,
        message_id: str,
    ) -> bool:
        """Deliver a message; False (nothing written) if no wait state of the case catches it."""
        instance = self.load(session, case)
        caught = instance.deliver_message(name, payload, correlation, now)
        if not caught:
            return False
        entry = NewEntry(
            "message_received",
            actor,
            None,
            {"name": name, "message_id": message_id, "payload": dict(payload)},
        )
        self._save(session, case, instance, now, [entry])
        return True

    def buffer(
        self,
        session: Session,
        case: Case,
        name: str,
        payload: Mapping[str, Any],
        correlation: Mapping[str, Any],
        actor: str,
        now: datetime,
        message_id: str,
        expires_at: datetime | None,
    ) -> None:
        """Keep a message the case is not waiting for yet; it is delivered when a wait state catches it."""
        session.add(
            BufferedMessage(
                case_id=case.id,
                message_id=message_id,
                name=name,
                payload=to_json_value(dict(payload)),
                correlation=to_json_value(dict(correlation)),
                received_at=now,
                expires_at=expires_at,
            )
        )
        entry = NewEntry(
            "message_buffered", actor, None, {"name": name, "message_id": message_id, "payload": payload}
        )
        append(session, case, [entry], now)
        case.updated_at = now
        session.flush()

    def deliver_or_buffer(
        self,
        session: Session,
        case: Case,
        name: str,
        payload: Mapping[str, Any],
        correlation: Mapping[str, Any],
        actor: str,
        now: datetime,
        message_id: str,
        buffer_ttl: timedelta | None,
    ) -> None:
        """Deliver a message now, or keep it (for `buffer_ttl`) until a wait state of the case catches it."""
        if case.status == "active" and self.deliver(
            session, case, name, payload, correlation, actor, now, message_id
        ):
            return
        expires = now + buffer_ttl if buffer_ttl else None
        self.buffer(session, case, name, payload, correlation, actor, now, message_id, expires)

    def fire_timers(
        self,
        session: Session,
        case: Case,
        now: datetime,
        actor: str = "system:worker",
        derived: DerivedRows | None = None,
        flush: bool = True,
    ) -> int:
        """Fire the case's due timers; return how many fired."""
        if case.status != "active":
            return 0
        instance = self.load(session, case)
        fired = instance.fire_due_timers(now)
        return self._record_fired(session, case, instance, fired, now, actor, derived, flush)

    def _record_fired(
        self,
        session: Session,
        case: Case,
        instance: Instance,
        fired: list[WaitingTimer],
        now: datetime,
        actor: str,
        derived: DerivedRows | None,
        flush: bool,
    ) -> int:
        if not fired and instance.error is None:
            return 0
        entries = [
            NewEntry("timer_fired", actor, t.element_id, {"name": t.name, "due_at": t.due_at.isoformat()})
            for t in fired
        ]
        self._save(session, case, instance, now, entries, derived=derived, flush=flush)
        return len(fired)

    def fire_timers_of(self, session: Session, cases: Iterable[Case], now: datetime, actor: str) -> int:
        """Fire the due timers of many cases in the caller's transaction: derived rows are read in
        one query per table and written in one flush (a lost race fails the whole batch)."""
        batch = [case for case in cases if case.status == "active"]
        derived = load_derived(session, [case.id for case in batch], with_buffered=True)
        instances = [self.load(session, case) for case in batch]
        # the engine steps side by side (in the step processes), then the rows in order
        results = fire_many(instances, now)
        fired = sum(
            self._record_fired(session, case, instance, due, now, actor, derived[case.id], False)
            for case, instance, due in zip(batch, instances, results, strict=True)
        )
        # the new rows (history, tasks, waits) as plain multi-row INSERTs, then the case updates
        insert_new_in_bulk(session)
        session.flush()  # raises StaleDataError when another step won a race on any of the cases
        return fired

    def retry(
        self, session: Session, case: Case, actor: str, now: datetime, variables: Mapping[str, Any] | None
    ) -> None:
        if case.status != "error":
            raise Conflict("only a case in error can be retried", code="not_in_error")
        instance = self.load(session, case)
        instance.retry(now, variables)
        entry = NewEntry("case_retried", actor, case.error_element_id, {"variables": dict(variables or {})})
        self._save(session, case, instance, now, [entry])

    def cancel(self, session: Session, case: Case, actor: str, reason: str, now: datetime) -> None:
        if case.status in ENDED:
            raise Conflict(f"the case is already {case.status}", code="case_ended")
        instance = self.load(session, case)
        instance.cancel()
        self._save(
            session,
            case,
            instance,
            now,
            [NewEntry("case_cancelled", actor, None, {"reason": reason})],
            status="cancelled",
        )

    def set_variables(
        self, session: Session, case: Case, actor: str, now: datetime, mutate: Callable[[Instance], Any]
    ) -> None:
        """Apply an engine-level change that is not a step (used by operators' tools)."""
        instance = self.load(session, case)
        mutate(instance)
        self._save(session, case, instance, now, [NewEntry("variables_changed", actor)])

    # -- saving -------------------------------------------------------------------------------
    def _save(
        self,
        session: Session,
        case: Case,
        instance: Instance,
        now: datetime,
        entries: list[NewEntry],
        status: str | None = None,
        derived: DerivedRows | None = None,
        flush: bool = True,
    ) -> None:
        snapshot = instance.snapshot()
        previous_status, previous_stage = case.status, case.stage
        case.state = instance.dump()
        case.status = status or snapshot.status
        case.variables = to_json_value(snapshot.variables)
        case.updated_at = now
        if snapshot.stage:
            case.stage = snapshot.stage
        if case.status in ENDED:
            case.stage = "closed"
            case.ended_at = now
            case.singleton_key = None
            case.outcome = self._outcome(case, instance, snapshot)
        elif isinstance(snapshot.variables.get("case_outcome"), str):
            case.outcome = snapshot.variables["case_outcome"][:64]
        if snapshot.error is not None:
            case.error_message = snapshot.error.message
            case.error_element_id = snapshot.error.element_id
        elif case.status != "error":
            case.error_message = None
            case.error_element_id = None

        entries = list(entries)
        entries += self._outbox(session, case, instance, now)
        if derived is None:
            # Without autoflush: the identity map already shows this step's own changes (e.g. the
            # task it just completed), and the case row is then written once, not twice.
            with session.no_autoflush:
                derived = load_derived(session, [case.id])[case.id]
        entries += self._sync_tasks(session, case, snapshot, now, derived)
        self._sync_waits(session, case, snapshot, derived)
        if case.stage != previous_stage and case.stage is not None:
            entries.append(
                NewEntry("stage_entered", "system", None, {"from": previous_stage, "to": case.stage})
            )
        if case.status != previous_status or (snapshot.error is not None and case.status == "error"):
            data: dict[str, Any] = {"from": previous_status, "to": case.status, "outcome": case.outcome}
            if snapshot.error is not None:
                data["error"] = {"message": snapshot.error.message, "element_id": snapshot.error.element_id}
            entries.append(NewEntry(f"case_{case.status}", "system", case.error_element_id, data))
        append(session, case, entries, now)
        if derived.has_buffered is False:  # nothing buffered to deliver or drop
            if flush:
                session.flush()  # raises StaleDataError when another step won the race
            return
        session.flush()
        if case.status == "active":
            self._deliver_buffered(session, case, snapshot, now)
        elif case.status in ENDED:
            self._drop_buffered(session, case, now)

    @staticmethod
    def _outcome(case: Case, instance: Instance, snapshot: Snapshot) -> str | None:
        explicit = snapshot.variables.get("case_outcome")
        if isinstance(explicit, str) and explicit:
            return explicit[:64]
        if case.status == "cancelled":
            return "cancelled"
        return (instance.last_element_id() or "completed")[:64]

    def _outbox(self, session: Session, case: Case, instance: Instance, now: datetime) -> list[NewEntry]:
        entries = []
        for call in instance.service_calls:
            key = outbox_key(case, call)
            message = OutboxMessage(
                id=uuid7(),
                case_id=case.id,
                loan_id=case.loan_id,
                channel=channel_for(call.operation),
                operation=call.operation,
                element_id=call.element_id,
                idempotency_key=key,
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
        instance.service_calls.clear()
        return entries

    def _sync_tasks(
        self, session: Session, case: Case, snapshot: Snapshot, now: datetime, derived: DerivedRows
    ) -> list[NewEntry]:
        entries = []
        rows = {task_id: t for task_id, t in derived.tasks.items() if t.status == "open"}
        wanted = {t.task_id: t for t in snapshot.open_tasks}
        for task_id, row in rows.items():
            if task_id not in wanted:
                del derived.tasks[task_id]
                row.status = "cancelled"
                row.ended_at = now
                entries.append(
                    NewEntry("task_cancelled", "system", row.element_id, {"task_id": str(task_id)})
                )
        for task_id, task in wanted.items():
            if task_id in rows:
                continue
            due_at = None
            if task.due_in:
                try:
                    due_at = now + isodate.parse_duration(task.due_in)
                except (isodate.ISO8601Error, ValueError, OverflowError):
                    due_at = None
            derived.tasks[task_id] = row = HumanTask(
                id=task_id,
                case_id=case.id,
                element_id=task.element_id,
                title=task.title[:500],
                lane=task.lane or self.ctx.default_group,
                stage=task.stage or case.stage,
                priority=task.priority,
                form_file=task.form_file,
                status="open",
                due_at=due_at,
                due_sort=due_at or NO_DUE_DATE,
                created_at=now,
                loan_id=case.loan_id,
            )
            session.add(row)
            entries.append(
                NewEntry(
                    "task_created", "system", task.element_id, {"task_id": str(task_id), "lane": task.lane}
                )
            )
        return entries

    def _sync_waits(self, session: Session, case: Case, snapshot: Snapshot, derived: DerivedRows) -> None:
        timers = derived.timers
        wanted_timers = {t.task_id: t for t in snapshot.timers}
        for task_id, row in list(timers.items()):
            if task_id not in wanted_timers:
                del timers[task_id]
                session.delete(row)
            elif row.due_at != wanted_timers[task_id].due_at:
                row.due_at = wanted_timers[task_id].due_at
                row.lease_owner = row.lease_until = None
        for task_id, timer in wanted_timers.items():
            if task_id not in timers:
                timers[task_id] = Timer(
                    case_id=case.id,
                    task_id=task_id,
                    element_id=timer.element_id,
                    name=timer.name[:500],
                    due_at=timer.due_at,
                )
                session.add(timers[task_id])
        subs = derived.subscriptions
        wanted_subs = {(m.task_id, m.name): m for m in snapshot.messages}
        for key, sub in list(subs.items()):
            if key not in wanted_subs:
                del subs[key]
                session.delete(sub)
        for key, message in wanted_subs.items():
            if key not in subs:
                subs[key] = MessageSubscription(
                    case_id=case.id,
                    task_id=message.task_id,
                    element_id=message.element_id,
                    name=message.name,
                    correlation_value=case.loan_id,
                    case_created_at=case.created_at,
                )
                session.add(subs[key])

    def _deliver_buffered(self, session: Session, case: Case, snapshot: Snapshot, now: datetime) -> None:
        waiting = {m.name for m in snapshot.messages}
        if not waiting:
            return
        pending = session.scalars(
            select(BufferedMessage)
            .where(BufferedMessage.case_id == case.id, BufferedMessage.name.in_(waiting))
            .order_by(BufferedMessage.id)
            .limit(1)
        ).first()
        if pending is None:
            return
        session.delete(pending)
        if pending.expires_at is not None and pending.expires_at < now:
            append(
                session,
                case,
                [
                    NewEntry(
                        "buffered_message_expired",
                        "system",
                        None,
                        {"name": pending.name, "message_id": pending.message_id},
                    )
                ],
                now,
            )
            session.flush()
            return
        # Delivered in the same transaction; the save after it may deliver the next one.
        self.deliver(
            session,
            case,
            pending.name,
            pending.payload,
            pending.correlation,
            "system:buffer",
            now,
            pending.message_id,
        )

    def _drop_buffered(self, session: Session, case: Case, now: datetime) -> None:
        dropped = list(session.scalars(select(BufferedMessage).where(BufferedMessage.case_id == case.id)))
        if not dropped:
            return
        session.execute(delete(BufferedMessage).where(BufferedMessage.case_id == case.id))
        entries = [
            NewEntry("buffered_message_dropped", "system", None, {"name": m.name, "message_id": m.message_id})
            for m in dropped
        ]
        append(session, case, entries, now)
        session.flush()
