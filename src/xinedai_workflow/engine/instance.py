"""One running workflow, behind an API that never exposes SpiffWorkflow objects.

An `EngineInstance` is created (``start``) or restored (``load``), asked to do one step
(complete a task, deliver a message, fire due timers, retry after an error), and then read back:
``dump()`` for the state to store and ``snapshot()`` for the derived rows (open tasks, timers,
message subscriptions, stage, status). Service-task calls are collected as `ServiceCall`s for the
caller to put into the outbox in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as _MessageDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..domain.case_rules import StepReport
from .engine_time import engine_time
from .sandbox import SandboxEnvironment, SandboxLimits
from .serializer import dump_workflow, load_workflow, to_json_value
from .spec_checks import event_definitions, user_task_properties
from .start_defaults import start_defaults
from .task_scan import EngineWorkflow


@dataclass(frozen=True)
class ProcessDefinition:
    """A deployed, parsed process version (cached per key and version)."""

    id: int
    key: str
    version: int
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    files: Mapping[str, bytes]

    def form(self, name: str | None) -> dict[str, Any] | None:
        """The JSON Schema form file `name` of this version, if any."""
        if not name or name not in self.files:
            return None
        form: dict[str, Any] = json.loads(self.files[name])
        return form

    def user_task_settings(self, element_id: str) -> dict[str, Any]:
        """The extension properties of a user task, plus its raw ``instructions`` template."""
        for spec in [self.spec, *self.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) == element_id:
                    props: dict[str, Any] = dict(user_task_properties(task_spec))
                    props["instructions"] = (getattr(task_spec, "extensions", None) or {}).get(
                        "instructionsForEndUser"
                    )
                    return props
        return {}


@dataclass(frozen=True)
class OpenUserTask:
    task_id: uuid.UUID
    element_id: str
    title: str
    lane: str | None
    stage: str | None
    priority: int
    due_in: str | None
    form_file: str | None
    instructions: str | None


@dataclass(frozen=True)
class WaitingTimer:
    task_id: uuid.UUID
    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class WaitingMessage:
    task_id: uuid.UUID
    element_id: str
    name: str


@dataclass(frozen=True)
class EngineError:
    """Why a step failed, and where."""

    message: str
    element_id: str | None


@dataclass(frozen=True)
class ServiceCall:
    """A service task's request, to be written to the outbox by the caller."""

    operation: str
    params: dict[str, Any]
    element_id: str
    task_id: uuid.UUID

    @property
    def request_id(self) -> str:
        """What the diagram gets back as the call's `request_id`; receipts refer to it."""
        return f"{self.task_id}:{self.operation}"


@dataclass
class Snapshot:
    """What the database keeps next to the state, for queries."""

    status: str  # active | completed | error
    stage: str | None
    open_tasks: list[OpenUserTask]
    timers: list[WaitingTimer]
    messages: list[WaitingMessage]
    variables: dict[str, Any]
    error: EngineError | None = None
    # the BPMN id of the element the engine ran last (a completed case's default outcome)
    last_element_id: str | None = None


def step_report(snapshot: Snapshot) -> StepReport:
    """The snapshot as the case rules (`domain.case_rules`) see a step."""
    explicit = snapshot.variables.get("case_outcome")
    error = snapshot.error
    return StepReport(
        status=snapshot.status,
        stage=snapshot.stage,
        explicit_outcome=explicit if isinstance(explicit, str) else None,
        last_element_id=snapshot.last_element_id,
        error_message=error.message if error is not None else None,
        error_element_id=error.element_id if error is not None else None,
    )


ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class TaskNotReady(Exception):
    """The task is not open (completed, cancelled, or unknown to this case)."""


class InvalidVariables(ValueError):
    """Variables the engine cannot hold (not JSON-like)."""


@dataclass
class RuntimeContext:
    """What every instance needs from the service: helpers, limits, service operation names."""

    helpers: Mapping[str, Any]
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    service_operations: frozenset[str] = frozenset()
    default_group: str = "collectors"
    # Helpers that need the files of the case's pinned version (e.g. rendering its templates).
    version_helpers: Callable[[ProcessDefinition], Mapping[str, Any]] | None = None
    # Runs steps in supervised child processes (see `engine/supervisor.py`); None: in-process.
    supervisor: Any = None


def _parse_due(value: Any) -> datetime | None:
    if isinstance(value, dict):
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # SpiffWorkflow reads naive timeDate values as server local time
        moment = moment.astimezone()
    return moment.astimezone(UTC)


class EngineInstance:
    """A workflow of one case, with the sandboxed script engine attached."""

    def __init__(
        self,
        definition: ProcessDefinition,
        workflow: BpmnWorkflow,
        ctx: RuntimeContext,
        on_task: Callable[[str | None], None] | None = None,
    ) -> None:
        self.definition = definition
        self.on_task = on_task
        self.workflow = workflow
        self.ctx = ctx
        self.service_calls: list[ServiceCall] = []
        self.error: EngineError | None = None
        self.rolled_back = False  # in-process steps are never undone (see `SupervisedInstance`)
        helpers = {**ctx.helpers, **(ctx.version_helpers(definition) if ctx.version_helpers else {})}
        environment = SandboxEnvironment(helpers, ctx.limits)
        environment.service_handler = self._call_service
        # The script engine is not serialized: it is attached on every start and load.
        workflow.script_engine = PythonScriptEngine(environment=environment)
        self._current_task: Task | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        definition: ProcessDefinition,
        variables: Mapping[str, Any],
        now: datetime,
        ctx: RuntimeContext,
        on_task: Callable[[str | None], None] | None = None,
    ) -> EngineInstance:
        """Create a workflow with `variables` and run it to its first wait state."""
        instance = cls.create(definition, variables, ctx, on_task)
        instance._step(now, lambda: None)
        return instance

    @classmethod
    def create(
        cls,
        definition: ProcessDefinition,
        variables: Mapping[str, Any],
        ctx: RuntimeContext,
        on_task: Callable[[str | None], None] | None = None,
    ) -> EngineInstance:
        """A new workflow holding `variables`, before any of its elements ran."""
        workflow = EngineWorkflow(definition.spec, definition.subprocess_specs)
        instance = cls(definition, workflow, ctx, on_task)
        clash = set(ctx.helpers).intersection(variables)
        if clash:
            raise InvalidVariables(f"variable name(s) {sorted(clash)} are reserved for helper functions")
        variables = {**start_defaults(definition.spec), **variables}
        start_task = workflow.task_tree
        start_task.data.update(variables)
        workflow.task_tree.data = dict(start_task.data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        return instance

    @classmethod
    def load(
        cls,
        definition: ProcessDefinition,
        state: str,
        ctx: RuntimeContext,
        on_task: Callable[[str | None], None] | None = None,
    ) -> EngineInstance:
        """Restore a stored workflow with the cached specs of its pinned version."""
        workflow = load_workflow(state, definition.spec, definition.subprocess_specs)
        return cls(definition, workflow, ctx, on_task)

    def last_element_id(self) -> str | None:
        """The element the workflow ran last (the outcome of a case that ends without one)."""
        last = self.workflow.last_task
        return last.task_spec.bpmn_id if last is not None and last.task_spec.bpmn_id else None

    def dump(self) -> str:
        return dump_workflow(self.workflow)

    # -- steps --------------------------------------------------------------------------------
    def _step(self, now: datetime, action: Callable[[], None]) -> None:
        with engine_time(now):
            try:
                action()
                self.workflow.do_engine_steps(will_complete_task=self._entering)
            except Exception as err:
                self.error = self._describe(err)

    def _entering(self, task: Task) -> None:
        self._current_task = task
        if self.on_task is not None:
            self.on_task(task.task_spec.bpmn_id)

    def _describe(self, err: Exception) -> EngineError:
        task = getattr(err, "task", None) or self._current_task
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        errored = self.workflow.get_tasks(state=TaskState.ERROR)
        if errored and errored[0].task_spec.bpmn_id:
            element = errored[0].task_spec.bpmn_id
        detail = str(err) or type(err).__name__
        cause = getattr(err, "exception", None) or err.__cause__
        if cause is not None and str(cause) and str(cause) not in detail:
            detail = f"{detail}: {type(cause).__name__}: {cause}"
        return EngineError(detail[:2000], element)

    def complete_task(self, task_id: uuid.UUID, data: Mapping[str, Any], now: datetime) -> None:
        """Complete an open user task with form data, then run to the next wait state."""
        task = self.workflow.get_task_from_id(task_id)
        if task is None or not task.has_state(TaskState.READY) or not task.task_spec.manual:
            raise TaskNotReady(str(task_id))

        def action() -> None:
            task.data.update(data)
            self._current_task = task
            task.run()

        self._step(now, action)

    def _message_catchers(self, name: str) -> list[Any]:
        """Message definitions catching `name`: waiting events and event-subprocess start events."""
        found = [
            definition
            for task in self._waiting_event_tasks()
            for definition in event_definitions(task.task_spec)
            if isinstance(definition, _MessageDefinition) and definition.name == name
        ]
        found += [definition for _id, _element, definition in self._triggers() if definition.name == name]
        return found

    def _triggers(self) -> list[tuple[uuid.UUID, str, Any]]:
        """Message start events of the top process's event subprocesses.

        SpiffWorkflow creates such an event subprocess only when its message arrives, so no task
        waits for it; we report each as a standing subscription with a stable id.
        """
        out = []
        for name in getattr(self.workflow.spec.start, "trigger_specs", None) or []:
            sub_spec = self.workflow.subprocess_specs.get(name)
            for start in getattr(sub_spec, "bpmn_start_events", None) or []:
                for definition in event_definitions(start):
                    if isinstance(definition, _MessageDefinition):
                        stable = uuid.uuid5(self.workflow.task_tree.id, f"{name}:{definition.name}")
                        out.append((stable, start.bpmn_id, definition))
        return out

    def deliver_message(
        self, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any], now: datetime
    ) -> bool:
        """Deliver a message; False (and nothing changed) when no wait state catches it."""
        catchers = self._message_catchers(name)
        if not catchers:
            return False
        body = {**correlation, **payload}
        correlations: dict[str, Any] = {}
        for definition in catchers:
            for prop in definition.correlation_properties or []:
                for key in prop.correlation_keys:
                    value = body.get(prop.retrieval_expression, body.get(prop.name))
                    correlations.setdefault(key, {})[prop.name] = value
        event = BpmnEvent(MessageEventDefinition(name), payload=body, correlations=correlations)
        caught = True

        def action() -> None:
            nonlocal caught
            try:
                self.workflow.send_event(event)
            except WorkflowException:
                caught = False

        self._step(now, action)
        return caught

    def fire_due_timers(self, now: datetime) -> list[WaitingTimer]:
        """Fire every timer due at `now`; return the ones that fired."""
        due = [t for t in self.snapshot_timers() if t.due_at <= now]
        if due:
            # SpiffWorkflow fires only once the due time has *passed* (strict <); a timer due
            # exactly at `now` is due for us (and for the worker's lease query), so step just after.
            self._step(now + timedelta(microseconds=1), self.workflow.refresh_timers)
        still = {t.task_id for t in self.snapshot_timers() if t.due_at <= now}
        return [t for t in due if t.task_id not in still]

    def retry(self, now: datetime, variables: Mapping[str, Any] | None = None) -> None:
        """Re-run the task(s) that failed, optionally after fixing variables."""

        def action() -> None:
            for task in self.workflow.get_tasks(state=TaskState.ERROR):
                if variables:
                    task.data.update(variables)
                task.workflow.reset_from_task_id(task.id, data=dict(task.data))

        self.error = None
        self._step(now, action)

    def cancel(self) -> None:
        self.workflow.cancel()

    def take_service_calls(self) -> list[ServiceCall]:
        """The service-task calls made since the last take, for the caller's outbox."""
        calls, self.service_calls = self.service_calls, []
        return calls

    def _call_service(self, context: Any, **kwargs: Any) -> str:
        task = self._current_task
        element = task.task_spec.bpmn_id if task is not None else "?"
        task_id = task.id if task is not None else uuid.uuid4()
        operation = kwargs.get("operation_name", "")
        if operation not in self.ctx.service_operations:
            raise ValueError(f"unknown service operation {operation!r}")
        params = {
            k: v.get("value") if isinstance(v, dict) else v
            for k, v in kwargs.get("operation_params", {}).items()
        }
        call = ServiceCall(operation, to_json_value(params), element, task_id)
        self.service_calls.append(call)
        return json.dumps({"status": "queued", "request_id": call.request_id})

    # -- reading back -------------------------------------------------------------------------
    def _waiting_event_tasks(self) -> list[Task]:
        return [t for t in self.workflow.event_manager.tasks.values() if t.has_state(TaskState.WAITING)]

    def snapshot_timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self._waiting_event_tasks():
            for definition in event_definitions(task.task_spec):
                if isinstance(definition, TimerEventDefinition):
                    due = _parse_due(task.internal_data.get("event_value"))
                    if due is not None:
                        name = task.task_spec.bpmn_name or definition.name or task.task_spec.bpmn_id
                        timers.append(WaitingTimer(task.id, task.task_spec.bpmn_id, name, due))
        return timers

    def _open_user_tasks(self, ready: list[Task] | None = None) -> list[OpenUserTask]:
        out = []
        if ready is None:
            ready = self.workflow.get_tasks(state=TaskState.READY)
        for task in ready:
            spec = task.task_spec
            if not spec.manual:
                continue
            props = user_task_properties(spec)
            try:
                priority = int(props.get("priority", 0))
            except ValueError:
                priority = 0
            out.append(
                OpenUserTask(
                    task_id=task.id,
                    element_id=spec.bpmn_id,
                    title=spec.bpmn_name or spec.bpmn_id,
                    lane=getattr(spec, "lane", None) or self.ctx.default_group,
                    stage=self._stage_of(task),
                    priority=priority,
                    due_in=props.get("dueIn"),
                    form_file=props.get("formJsonSchemaFilename"),
                    instructions=(spec.extensions or {}).get("instructionsForEndUser"),
                )
            )
        return out

    def _stage_of(self, task: Task) -> str | None:
        return self._marks(task)[0] if self._marks(task) else None

    def _marks(self, task: Task) -> list[str]:
        """Stage marks from the task outward through its enclosing (sub)processes."""
        marks = []
        current: Task | None = task
        while current is not None:
            stage = user_task_properties(current.task_spec).get("stage")
            if stage:
                marks.append(stage)
            parent_id = getattr(current.workflow, "parent_task_id", None)
            current = self.workflow.get_task_from_id(parent_id) if parent_id is not None else None
        return marks

    def current_stage(self, active: list[Task] | None = None) -> str | None:
        """The mark of the innermost active marked element (None when nothing marked is active)."""
        best: tuple[int, float, str] | None = None
        if active is None:
            active = self.workflow.get_tasks(state=ACTIVE)
        for task in active:
            marks = self._marks(task)
            if not marks:
                continue
            depth = getattr(task.workflow, "depth", 0) + (
                1 if user_task_properties(task.task_spec).get("stage") else 0
            )
            key = (depth, task.last_state_change or 0.0, marks[0])
            if best is None or key[:2] > best[:2]:
                best = key
        return best[2] if best else None

    def variables(self, live: list[Task] | None = None) -> dict[str, Any]:
        """The data the case holds now: its open and waiting tokens (newest wins), then data objects.

        With event subprocesses several tokens run side by side and the last task to run may be
        a short-lived handler; the waiting tokens hold the process's current data. When nothing is
        open (ended cases) the last task's data is used. `live`: the active and errored tasks.
        """
        if live is None:
            live = self.workflow.get_tasks(state=ACTIVE | TaskState.ERROR)
        sources = sorted(live, key=lambda t: t.last_state_change or 0.0)
        if self.workflow.last_task is not None:
            sources.insert(0, self.workflow.last_task)
        data: dict[str, Any] = dict(self.workflow.task_tree.data)
        for task in sources or [self.workflow.task_tree]:
            data.update(task.data)
        data.update({k: v for k, v in self.workflow.data.items() if k != "data_objects"})
        data.update(self.workflow.data.get("data_objects") or {})
        return data

    def is_completed(self) -> bool:
        return bool(self.workflow.completed)

    def _waiting_messages(self) -> list[WaitingMessage]:
        waiting = [
            WaitingMessage(t.id, t.task_spec.bpmn_id, d.name)
            for t in self._waiting_event_tasks()
            for d in event_definitions(t.task_spec)
            if isinstance(d, _MessageDefinition)
        ]
        return waiting + [WaitingMessage(i, element, d.name) for i, element, d in self._triggers()]

    def snapshot(self) -> Snapshot:
        # one walk of the task tree (each get_tasks call walks all of it, completed tasks included)
        live = self.workflow.get_tasks(state=ACTIVE | TaskState.ERROR)
        errored = any(task.has_state(TaskState.ERROR) for task in live)
        active = [task for task in live if task.has_state(ACTIVE)]
        if self.error is not None or errored:
            status = "error"
        elif self.workflow.completed:
            status = "completed"
        else:
            status = "active"
        return Snapshot(
            status=status,
            stage=self.current_stage(active),
            open_tasks=self._open_user_tasks([t for t in active if t.has_state(TaskState.READY)])
            if status != "completed"
            else [],
            timers=self.snapshot_timers() if status != "completed" else [],
            messages=self._waiting_messages() if status != "completed" else [],
            variables=self.variables(live),
            error=self.error,
            last_element_id=self.last_element_id(),
        )
