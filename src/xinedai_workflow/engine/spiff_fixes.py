"""Fixes of SpiffWorkflow 3.2 defects the diagrams run into (applied on import, like engine_time).

Data objects referenced from a subprocess nested two or more levels below the process that
declares them: the parser's lookup steps to the *direct* parent again and again instead of walking
up (``current = self.process_parser.parent``), so parsing such a diagram never ends. The runtime
lookup (``DataObject.get``/``set``) already walks up correctly; only the parser needs the fix.

Event subprocesses started by a message (the payment, update, dispute and receipt handlers): the
first time a case triggered one, ``BpmnStartTask.trigger_wf`` connected ``Start → handler →
EndJoin`` on the *spec*, which every case of the version shares (the registry and each step
process cache one parsed spec per version). Every case started on that spec afterwards got the
handler as an ordinary branch of its Start, waiting at the handler's message start, so its EndJoin
never fired and the case never completed. The handler is wired once, at parse time
(`connect_or_add_trigger`: its input Start, its output EndJoin, but not among Start's outputs),
and a trigger only adds the triggered task to the case's own tree (triggered tasks are never
removed by ``_sync_children``), so running a case leaves the spec as parsed.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.node_parser import NodeParser
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState


def _resolve_data_object_ref(self: Any, ref: Any) -> Any:
    if ref is None:
        return None
    current = self.process_parser
    while current is not None:
        data_object = current.spec.data_objects.get(ref.get("dataObjectRef"))
        if data_object is not None:
            return data_object
        current = getattr(current, "parent", None)
    return None


NodeParser._resolve_data_object_ref = _resolve_data_object_ref


def _connect_or_add_trigger(self: Any, task_spec: Any, sp_spec: Any) -> None:
    for start in sp_spec.bpmn_start_events:
        if isinstance(start.event_definition, (NoneEventDefinition, TimerEventDefinition)):
            self.connect(task_spec)
            task_spec.connect(self._wf_spec.end)
        else:
            self._wf_spec.task_specs[sp_spec.name] = task_spec
            if sp_spec.name not in self.trigger_specs:
                self.trigger_specs.append(sp_spec.name)
            # the handler's place in the graph, once, while parsing: reached from Start (a task
            # needs an input) without being one of Start's outputs (then every case would run it
            # from its start), and leading to the end as a triggered handler always did
            if self not in task_spec.inputs:
                task_spec.inputs = [*task_spec.inputs, self]
            if self._wf_spec.end not in task_spec.outputs:
                task_spec.connect(self._wf_spec.end)


def _trigger_wf(self: Any, my_task: Any, spec_name: str) -> Any:
    spec = self._wf_spec.task_specs.get(spec_name)
    child = my_task._add_child(spec, TaskState.FUTURE)
    child.triggered = True
    child.task_spec._update(child)
    return child.id


BpmnStartTask.connect_or_add_trigger = _connect_or_add_trigger
BpmnStartTask.trigger_wf = _trigger_wf
