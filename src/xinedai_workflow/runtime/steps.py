"""Every change to a case goes through here: load → engine step → save state and derived rows.

Each command works inside the caller's unit of work (one transaction): the engine step, the case
row (optimistic lock on `lock_version`), open human tasks, timers, message subscriptions, history
entries and outbox rows are written together or not at all. How status, stage and outcome move is
decided by the rules in `domain/case_rules.py`; this module only carries the decision out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..db.bulk import insert_new_in_bulk
from ..db.models import Case, HistoryEntry, HumanTask, MessageSubscription, OutboxMessage, Timer
from ..db.unit_of_work import after_commit
from ..definitions.registry import DefinitionRegistry
from ..domain.case_rules import ENDED, CaseBefore, Decision, decide
from ..engine import (
    EngineInstance,
    Instance,
    ProcessDefinition,
    RuntimeContext,
    Snapshot,
    TaskNotReady,
    WaitingTimer,
    fire_many,
    load_instance,
    start_instance,
    step_report,
)
from ..engine.migration import ElementChange, InvalidMapping, migrate_instance
from ..engine.serializer import to_json_value
from ..errors import Conflict, Invalid
from ..history.service import NewEntry, append
from ..ids import uuid7
from . import buffer
from .derived import DerivedRows, load_derived, refresh_kept_rows, sync_tasks, sync_waits
from .outbox import queue_service_calls

log = logging.getLogger("xinedai_workflow.runtime")


# the rows a step adds (and nothing reads back by a database-assigned id)
STEP_ROW_TYPES = (HistoryEntry, HumanTask, Timer, MessageSubscription, OutboxMessage)


def _step_rows(session: Session, case: Case) -> list[object]:
    """The new rows of `case`'s step pending in the session."""
    return [obj for obj in session.new if isinstance(obj, STEP_ROW_TYPES) and obj.case_id == case.id]


def case_before(case: Case) -> CaseBefore:
    return CaseBefore(case.status, case.stage, case.outcome, case.error_message, case.error_element_id)


def apply_decision(case: Case, decision: Decision, now: datetime) -> None:
    case.status = decision.status
    case.stage = decision.stage
    case.outcome = decision.outcome
    case.error_message = decision.error_message
    case.error_element_id = decision.error_element_id
    if decision.ended:
        case.ended_at = now
    if not decision.collecting:
        case.singleton_key = None  # collection is over: the loan's next overdue event opens a new case


class MigrationRefused(Conflict):
    """A move to another version that cannot be carried out; `details` names each blocking element."""

    code = "migration_refused"


class CaseRuntime:
    """The case commands: open, complete a task, deliver or buffer a message, fire timers, retry,
    cancel, migrate. Each runs one engine step and saves it with its derived rows."""

    def __init__(self, registry: DefinitionRegistry, ctx: RuntimeContext) -> None:
        self.registry = registry
        self.ctx = ctx

    # -- opening ------------------------------------------------------------------------------
    def open(
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
        self._step(
            session, case, instance, now, [entry], derived=DerivedRows(has_buffered=False), flush=flush
        )
        return case

    # -- steps on an existing case ------------------------------------------------------------
    def load(self, session: Session, case: Case) -> Instance:
        """The case's workflow, run in a supervised step process when isolation is on."""
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
    ) -> DerivedRows | None:
        """Complete the task and save the step; return the case's derived rows as saved (None when
        buffered messages were delivered after it, so only the database knows them)."""
        instance = self.load(session, case)
        try:
            instance.complete_task(task.id, data, now)
        except TaskNotReady as err:
            raise Conflict("the task is no longer open", code="task_not_open") from err
        if instance.rolled_back:  # the step was stopped and undone: the task stays open, case → error
            return self._step(session, case, instance, now, [])
        task.status = "completed"
        task.ended_at = now
        task.completed_by = actor
        entry = NewEntry(
            "task_completed", actor, task.element_id, {"task_id": str(task.id), "data": dict(data)}
        )
        return self._step(session, case, instance, now, [entry])

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
        snapshot = self._deliver(session, case, name, payload, correlation, actor, now, message_id)
        if snapshot is None:
            return False
        self._settle_buffered(session, case, snapshot, now)
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
        buffer.keep(session, case.id, name, payload, correlation, message_id, now, expires_at)
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
        self._step(session, case, instance, now, entries, derived=derived, flush=flush)
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
        self._step(session, case, instance, now, [entry])

    def cancel(self, session: Session, case: Case, actor: str, reason: str, now: datetime) -> None:
        if case.status in ENDED:
            raise Conflict(f"the case is already {case.status}", code="case_ended")
        instance = self.load(session, case)
        instance.cancel()
        entry = NewEntry("case_cancelled", actor, None, {"reason": reason})
        self._step(session, case, instance, now, [entry], forced_status="cancelled")

    def migrate(
        self,
        session: Session,
        case: Case,
        target: ProcessDefinition,
        mapping: Mapping[str, str],
        actor: str,
        now: datetime,
        dry_run: bool = False,
        reason: str | None = None,
    ) -> list[ElementChange]:
        """Move the case to `target` (another version of its process) and save it like a step:
        open tasks keep their ids and claims, timers their due times, buffered messages stay.
        Raises `MigrationRefused` (nothing written) when an element blocks the move."""
        if case.status in ENDED:
            raise Conflict(f"the case is already {case.status}", code="case_ended")
        if target.key != case.process_key:
            raise Invalid(f"version {target.version} belongs to process {target.key!r}", code="wrong_process")
        if target.id == case.process_version_id:
            raise Conflict(f"the case is already on version {target.version}", code="already_on_version")
        try:
            # in process: a migration edits the task tree and runs no diagram code
            definition = self.registry.get(session, case.process_version_id)
            here = EngineInstance.load(definition, case.state, self.ctx)
            result = migrate_instance(here, target, mapping, now, self.ctx)
        except InvalidMapping as err:
            details = [{"field": "mapping", "element_id": e, "message": m} for e, m in err.problems]
            raise Invalid("the mapping names elements that do not exist", details=details) from err
        if result.instance is None:
            details = [{"element_id": b.element_id, "message": b.message} for b in result.blockers]
            raise MigrationRefused(
                f"case {case.id} cannot move to version {target.version}: "
                + "; ".join(b.message for b in result.blockers),
                details=details,
            )
        if dry_run:
            return result.changes
        entry = NewEntry(
            "case_migrated",
            actor,
            None,
            {
                "from": case.definition_version,
                "to": target.version,
                "mapping": dict(mapping),
                "reason": reason,
                "changes": [vars(change) for change in result.changes],
            },
        )
        case.process_version_id = target.id
        case.definition_version = target.version
        with session.no_autoflush:
            derived = load_derived(session, [case.id], with_buffered=True)[case.id]
        refresh_kept_rows(derived, result.instance.snapshot())
        self._step(session, case, result.instance, now, [entry], derived=derived)
        return result.changes

    def set_variables(
        self, session: Session, case: Case, actor: str, now: datetime, mutate: Callable[[Instance], Any]
    ) -> None:
        """Apply an engine-level change that is not a step (used by operators' tools)."""
        instance = self.load(session, case)
        mutate(instance)
        self._step(session, case, instance, now, [NewEntry("variables_changed", actor)])

    # -- saving -------------------------------------------------------------------------------
    def _step(
        self,
        session: Session,
        case: Case,
        instance: Instance,
        now: datetime,
        entries: list[NewEntry],
        forced_status: str | None = None,
        derived: DerivedRows | None = None,
        flush: bool = True,
    ) -> DerivedRows | None:
        """Save one step, then deliver the buffered messages it now waits for (or drop them).
        Returns the derived rows as saved, None when a buffered delivery changed them again."""
        snapshot, derived = self._save(session, case, instance, now, entries, forced_status, derived)
        if derived.has_buffered is False and not flush:
            return derived
        if case not in session.new:
            # the step's new rows as multi-row INSERTs (a new case is inserted by its caller's flush)
            insert_new_in_bulk(session, _step_rows(session, case))
        session.flush()  # raises StaleDataError when another step won the race
        if derived.has_buffered is False:  # nothing buffered to deliver or drop
            return derived
        return derived if not self._settle_buffered(session, case, snapshot, now) else None

    def _save(
        self,
        session: Session,
        case: Case,
        instance: Instance,
        now: datetime,
        entries: list[NewEntry],
        forced_status: str | None = None,
        derived: DerivedRows | None = None,
    ) -> tuple[Snapshot, DerivedRows]:
        """Write the step: state, the rules' decision, outbox rows, derived rows and history."""
        snapshot = instance.snapshot()
        decision = decide(case_before(case), step_report(snapshot), forced_status)
        case.state = instance.dump()
        case.variables = to_json_value(snapshot.variables)
        case.updated_at = now
        apply_decision(case, decision, now)
        entries = [*entries, *queue_service_calls(session, case, instance.take_service_calls(), now)]
        if derived is None:
            # Without autoflush: the identity map already shows this step's own changes (e.g. the
            # task it just completed), and the case row is then written once, not twice.
            with session.no_autoflush:
                derived = load_derived(session, [case.id])[case.id]
        entries += sync_tasks(session, case, snapshot, now, derived, self.ctx.default_group)
        sync_waits(session, case, snapshot, derived)
        entries += [NewEntry(e.action, "system", e.element_id, e.data) for e in decision.events]
        append(session, case, entries, now)
        if snapshot.error is not None:
            failure = (case.id, snapshot.error.element_id, snapshot.error.message)
            after_commit(session, lambda: log.warning("case %s failed at %s: %s", *failure))
        return snapshot, derived

    def _deliver(
        self,
        session: Session,
        case: Case,
        name: str,
        payload: Mapping[str, Any],
        correlation: Mapping[str, Any],
        actor: str,
        now: datetime,
        message_id: str,
    ) -> Snapshot | None:
        """Deliver and save (no buffered messages handled); None when nothing catches it."""
        instance = self.load(session, case)
        if not instance.deliver_message(name, payload, correlation, now):
            return None
        entry = NewEntry(
            "message_received",
            actor,
            None,
            {"name": name, "message_id": message_id, "payload": dict(payload)},
        )
        snapshot, _derived = self._save(session, case, instance, now, [entry])
        session.flush()
        return snapshot

    def _settle_buffered(
        self, session: Session, case: Case, snapshot: Snapshot | None, now: datetime
    ) -> bool:
        """After a step: deliver, one after the other in this transaction, the buffered messages
        the case now waits for; an ended case drops what is left. True when any was delivered."""
        delivered = False
        while snapshot is not None and case.status == "active":
            pending = buffer.take_next(session, case.id, {m.name for m in snapshot.messages})
            if pending is None:
                return delivered
            if pending.expires_at is not None and pending.expires_at < now:
                data = {"name": pending.name, "message_id": pending.message_id}
                append(session, case, [NewEntry("buffered_message_expired", "system", None, data)], now)
                session.flush()
                return delivered
            delivered = True
            snapshot = self._deliver(
                session,
                case,
                pending.name,
                pending.payload,
                pending.correlation,
                "system:buffer",
                now,
                pending.message_id,
            )
        if case.status in ENDED:
            entries = buffer.drop_all(session, case.id)
            if entries:
                append(session, case, entries, now)
                session.flush()
        return delivered
