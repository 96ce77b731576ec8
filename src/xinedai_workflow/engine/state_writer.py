"""The workflow state as SpiffWorkflow's spec-free serializer writes it, built faster.

SpiffWorkflow converts a workflow task by task through its registry (a partial, a converter
method and two static delta helpers per task, ``task.parent`` looked up four times) and then
encodes the result with ``json.dumps`` and a Python ``default`` for every typed value. This module
builds the very same dictionary — the same keys, the same delta of each task against its parent,
the same tags for Decimal, dates, datetimes, timedeltas and UUIDs, the same ``None`` for callables
— in one pass that leaves plain values alone, and encodes it with orjson.

Anything it is not sure to write exactly as SpiffWorkflow does (a NaN or infinite number, an
object SpiffWorkflow's encoder would refuse, an integer beyond 64 bits, a key that is not a
string, a cycle) raises `NotPlain`; the caller then writes the state the standard way, so the
stored format never depends on which path wrote it (tests/engine/test_state_writer.py asserts
equality with the standard converter on many states).
"""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType
from typing import Any

import orjson
from SpiffWorkflow.task import Task

_INF = float("inf")


class NotPlain(Exception):
    """The state holds something only SpiffWorkflow's own encoder writes correctly."""


class StateWriter:
    """Writes workflows (top and subprocesses) with the registry's tags for typed values."""

    def __init__(self, registry: Any, version_key: str, version: str) -> None:
        self.registry = registry
        self.version_key = version_key
        self.version = version
        self._typenames: dict[type, str] = registry.typenames
        self._to_dict: dict[str, Any] = registry.convert_to_dict

    # -- values -------------------------------------------------------------------------------
    def plain(self, value: Any) -> Any:
        """`value` as ``json.loads(json.dumps(value, cls=SpiffEncoder))`` would give it back."""
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is float:
            if not -_INF < value < _INF:  # NaN and infinities: orjson would write null
                raise NotPlain("non-finite float")
            return value
        if kind is dict:
            return {self._key(k): self.plain(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [self.plain(item) for item in value]
        # the JSON encoder's native types come before `default`, subclasses included
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return self.plain(float.__float__(value))
        if isinstance(value, dict):
            return {self._key(k): self.plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.plain(item) for item in value]
        return self._default(value)

    def _default(self, value: Any) -> Any:
        """SpiffWorkflow's ``SpiffEncoder.default``."""
        typename = self._typenames.get(type(value))
        if typename is not None:
            if type(value) is Decimal and value.is_nan():  # never equal to itself: deltas differ
                raise NotPlain("Decimal NaN")
            return self.plain(self._to_dict[typename](value))
        if callable(value) or isinstance(value, ModuleType):
            return None
        if isinstance(value, set):
            return [self.plain(item) for item in value]
        raise NotPlain(f"unserializable {type(value).__name__}")

    @staticmethod
    def _key(key: Any) -> str:
        if type(key) is str:
            return key
        raise NotPlain("non-string key")

    @staticmethod
    def _clean(data: dict[str, Any]) -> dict[str, Any]:
        """DefaultRegistry.clean: callables and modules dropped from the top level."""
        return {k: v for k, v in data.items() if not callable(v) and not isinstance(v, ModuleType)}

    # -- structure ----------------------------------------------------------------------------
    def task(self, task: Task, tasks: dict[Any, Task], names: dict[Any, str]) -> dict[str, Any]:
        """TaskConverter.to_dict (with its ``typename``), values made plain; `names`: the ids of
        `tasks` as strings (each UUID formatted once per state, not at every mention)."""
        parent = tasks.get(task._parent)
        plain = self.plain
        if parent is None:
            data: dict[str, Any] = plain(task.data)
            delta: dict[str, Any] = {}
        else:
            before, after = parent.data, task.data
            data = {}
            if before == after:  # C-level comparison; identical values compare equal here
                delta = {"updates": {}, "deletions": []}
            else:
                delta = {
                    "updates": {
                        self._key(k): plain(v) for k, v in after.items() if k not in before or v != before[k]
                    },
                    "deletions": [k for k in before if k not in after],
                }
        internal = task.internal_data
        name = names.get
        return {
            "id": name(task.id) or str(task.id),
            "parent": name(task._parent) or str(task._parent) if parent is not None else None,
            "children": [name(child) or str(child) for child in task._children],
            "last_state_change": plain(task.last_state_change),
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": plain(self._clean(internal)) if internal else {},
            "data": data,
            "delta": delta,
            "typename": "Task",
        }

    def _common(self, workflow: Any) -> dict[str, Any]:
        tasks = workflow.tasks
        names = {key: str(key) for key in tasks}
        last = workflow.last_task
        return {
            "data": self.plain(self._clean(workflow.data)),
            "correlations": self.plain(workflow.correlations),
            "last_task": str(last.id) if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": {names[k]: self.task(t, tasks, names) for k, t in tasks.items()},
            "root": str(workflow.task_tree.id),
        }

    def workflow(self, workflow: Any) -> dict[str, Any]:
        """The top workflow as `SpecFreeWorkflowConverter` writes it, with the serializer version."""
        dct = self._common(workflow)
        subprocesses = {}
        for key, subprocess in workflow.subprocesses.items():
            sub = self._common(subprocess)
            sub["parent_task_id"] = str(subprocess.parent_task_id)
            sub["spec"] = subprocess.spec.name
            sub["typename"] = "BpmnSubWorkflow"
            subprocesses[str(key)] = sub
        dct["subprocesses"] = subprocesses
        dct["bpmn_events"] = self.plain(workflow.bpmn_events)
        dct["typename"] = "BpmnWorkflow"
        dct[self.version_key] = self.version
        return dct

    def dumps(self, workflow: Any) -> str:
        """The state as JSON text; `NotPlain` when the standard encoder has to write it."""
        previous = self.registry._encoder_mode
        self.registry._encoder_mode = True  # registered converters nest as they do in SpiffWorkflow
        try:
            dct = self.workflow(workflow)
        except RecursionError as err:
            raise NotPlain("too deep or cyclic") from err
        finally:
            self.registry._encoder_mode = previous
        try:
            return orjson.dumps(dct).decode()
        except orjson.JSONEncodeError as err:  # e.g. an integer beyond 64 bits
            raise NotPlain(str(err)) from err
