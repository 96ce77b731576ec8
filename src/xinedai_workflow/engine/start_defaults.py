"""Defaults of optional start variables, declared on the process's start event.

A diagram names them as SpiffWorkflow extension properties of its (none) start event:
`<spiffworkflow:property name="default.contract_no" value="None"/>`; the value is a Python
literal. A case starts with every default its variables do not give, so the diagram's scripts
read optional facts of the start event like any other variable.
"""

from __future__ import annotations

import ast
from typing import Any

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.specs.base import TaskSpec

from .storable import UnstorableValue, check_storable

PREFIX = "default."
# a default is a short fact (None, 0, "none", []): longer text is a mistake, and a bound keeps
# the parser's recursion and memory small on an untrusted upload
MAX_LITERAL_CHARS = 1000


def declared_defaults(task_spec: TaskSpec) -> dict[str, str]:
    """The `default.NAME` properties of a none start event: NAME → its literal, unparsed."""
    if not isinstance(task_spec, StartEvent):
        return {}
    if not isinstance(task_spec.event_definition, NoneEventDefinition):
        return {}
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    named = {k.removeprefix(PREFIX): v for k, v in properties.items() if k.startswith(PREFIX)}
    return {name: str(literal) for name, literal in named.items() if name}


def literal_problem(name: str, literal: str) -> str | None:
    """Why `literal` cannot be the default of `name`, or None when it can."""
    if not name.isidentifier():
        return f"start default {name!r} is not a variable name"
    if len(literal) > MAX_LITERAL_CHARS:
        return f"start default {name!r} is longer than {MAX_LITERAL_CHARS} characters"
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return f"start default {name!r} = {literal!r} is not a Python literal (None, 0, 'none', [])"
    try:
        check_storable(value, name)
    except UnstorableValue as refused:
        return f"start default {name!r} = {literal!r} cannot be stored in a case: {refused}"
    return None


def start_defaults(spec: BpmnProcessSpec) -> dict[str, Any]:
    """The defaults the top-level process declares (literals that do not parse are left out: the
    deploy check refuses them)."""
    found: dict[str, Any] = {}
    for task_spec in spec.task_specs.values():
        for name, literal in declared_defaults(task_spec).items():
            if literal_problem(name, literal) is None:
                found[name] = ast.literal_eval(literal)
    return found
