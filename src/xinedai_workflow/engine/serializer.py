"""Serialization of running workflows WITHOUT their spec (the spec belongs to the definition version).

SpiffWorkflow embeds the whole spec in every serialized workflow and restores it on every load; we
store it once per definition version and hand the cached spec objects back in when loading.

Loading is also faster than SpiffWorkflow's own: typed values (Decimal, dates, UUIDs, ...) are
restored by the JSON parser as it meets them, so the task data of a long-lived case (hundreds of
tasks, each with a data delta) is not walked a second time in Python looking for them. Writing
goes through `state_writer.StateWriter` (the same dictionary as SpiffWorkflow's converters, built
in one pass and encoded with orjson), with SpiffWorkflow's converters and ``json`` as the fallback
for what it does not write exactly as they do. Workflows are restored as `EngineWorkflow`s (the
fast task scan of `task_scan`); the stored type names stay SpiffWorkflow's.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .state_writer import NotPlain, StateWriter
from .task_scan import EngineSubWorkflow, EngineWorkflow

# Typed values in task and workflow data; the parser restores these. Any other tagged object met
# outside the workflow's structure makes the load take SpiffWorkflow's full restore path.
VALUE_TYPENAMES = frozenset({"Decimal", "date", "datetime", "timedelta", "UUID"})
STRUCTURE_TYPENAMES = frozenset({"Task", "BpmnWorkflow", "BpmnSubWorkflow"})


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without ``spec``/``subprocess_specs``; reads it back with given specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        return {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": self.mapping_to_dict(workflow.tasks),
            "root": str(workflow.task_tree.id),
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": self.registry.convert(workflow.bpmn_events),
        }

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec | None = None,
        subprocess_specs: dict[str, BpmnProcessSpec] | None = None,
    ) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a spec-free workflow needs its spec to be restored")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class PreRestoredTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter for data whose typed values the JSON parser already restored."""

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=UUID(dct["id"]))
        task._parent = UUID(dct["parent"]) if dct["parent"] is not None else None
        task._children = [UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = dct["internal_data"]  # restored by the parser, like the data
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = DeepMerge.merge({}, task.parent.data)
            data.update(delta.get("updates", {}))
            for key in delta.get("deletions", {}):
                data.pop(key, None)
        else:
            data = dct["data"]
        task.data = data
        return task


def _build_serializer(pre_restored: bool = False) -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    if pre_restored:
        config[Task] = PreRestoredTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # restored as the engine's classes, written under SpiffWorkflow's names
    SpecFreeWorkflowConverter(EngineWorkflow, registry, typename="BpmnWorkflow")
    BpmnSubWorkflowConverter(EngineSubWorkflow, registry, typename="BpmnSubWorkflow")
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), typename="Decimal")
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]), "date"
    )
    return BpmnWorkflowSerializer(registry)


# The serializer toggles a shared flag while encoding: one per thread.
_local = threading.local()


def _serializer(pre_restored: bool = False) -> BpmnWorkflowSerializer:
    name = "pre_restored" if pre_restored else "standard"
    serializer = getattr(_local, name, None)
    if serializer is None:
        serializer = _build_serializer(pre_restored)
        setattr(_local, name, serializer)
    return serializer


class _UnknownTypedValue(Exception):
    pass


def _parse_restoring_values(state: str, serializer: BpmnWorkflowSerializer) -> dict[str, Any]:
    registry = serializer.registry

    def restore_value(dct: dict[str, Any]) -> Any:
        typename = dct.get("typename")
        if typename is None or typename in STRUCTURE_TYPENAMES:
            return dct
        if typename in VALUE_TYPENAMES:
            return registry.restore(dct)
        raise _UnknownTypedValue(typename)

    parsed: dict[str, Any] = json.loads(state, object_hook=restore_value)
    return parsed


def _writer() -> StateWriter:
    writer = getattr(_local, "writer", None)
    if writer is None:
        serializer = _serializer()
        writer = _local.writer = StateWriter(serializer.registry, serializer.VERSION_KEY, serializer.VERSION)
    return writer


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON, without its spec."""
    try:
        return _writer().dumps(workflow)
    except NotPlain:
        return standard_dump(workflow)


def standard_dump(workflow: BpmnWorkflow) -> str:
    """The state as SpiffWorkflow's converters and ``json`` write it (the reference of `dump_workflow`)."""
    return _serializer().serialize_json(workflow)


def load_workflow(
    state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    """Restore a workflow from `dump_workflow` output with the (cached) specs of its version."""
    serializer = _serializer(pre_restored=True)
    try:
        dct = _parse_restoring_values(state, serializer)
    except _UnknownTypedValue:  # e.g. an event object in internal data: restore the slow, general way
        serializer = _serializer()
        dct = json.loads(state)
    version = dct.get(serializer.VERSION_KEY)
    if version != VERSION:
        raise ValueError(f"stored workflow has serializer version {version!r}, expected {VERSION!r}")
    dct.pop(serializer.VERSION_KEY)
    workflow: BpmnWorkflow = serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    return workflow


def to_json_value(value: Any) -> Any:
    """Task data as plain JSON values (Decimal → string, dates → ISO) for the API and history."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, UUID):
        return str(value)
    return repr(value)


def spec_registry() -> Any:
    """The serializer's converter registry (it also converts task specs: the spec diff uses it)."""
    return _serializer().registry
