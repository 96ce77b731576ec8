"""The child side of supervised execution: one process that runs engine steps on request.

The supervisor (`engine/supervisor.py`) forks these from a fork server, caps each one's address
space (``RLIMIT_AS``) and kills it at the step's deadline. A child keeps its own cache of parsed
specs (asking the supervisor for a version's files the first time it meets it), loads the stored
state, runs the step, checks that every variable is storable, and answers with the new state and
the snapshot: the parent never runs diagram code.
"""

from __future__ import annotations

import ctypes
import os
import resource
import traceback
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from ..domain.template_limits import render_limited
from .bundle import load_process_specs
from .instance import (
    EngineError,
    EngineInstance,
    ProcessDefinition,
    RuntimeContext,
    ServiceCall,
    Snapshot,
    TaskNotReady,
    WaitingTimer,
)
from .storable import UnstorableValue, check_variables

SPEC_CACHE_SIZE = 64
OUT_OF_MEMORY = "the step ran out of memory (the engine's memory limit)"


@dataclass(frozen=True)
class DefinitionRef:
    """Which version a step runs on; `files` only when the child asked for them."""

    digest: str
    id: int
    key: str
    version: int
    files: Mapping[str, bytes] | None = None


@dataclass(frozen=True)
class StepRequest:
    op: str  # start | complete | deliver | fire | retry | cancel | snapshot | initial
    definition: DefinitionRef
    state: str | None
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class DefineRequest:
    """Parse a version's specs into the child's cache (not diagram code: no step deadline)."""

    definition: DefinitionRef


@dataclass(frozen=True)
class RenderRequest:
    source: str
    context: dict[str, Any]
    time_limit: float
    max_chars: int


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step: what the parent stores and reads back."""

    state: str
    snapshot: Snapshot
    service_calls: list[ServiceCall]
    error: EngineError | None
    last_element: str | None
    value: Any = None
    pid: int = 0  # the step process that ran it (its peak memory is read from /proc on demand)


@dataclass(frozen=True)
class NeedDefinition:
    digest: str


@dataclass(frozen=True)
class Raised:
    """An exception the caller must see (e.g. `TaskNotReady`), or the message of one that cannot travel."""

    error: BaseException | None
    message: str


@dataclass(frozen=True)
class Failed:
    """The step could not produce a storable state: the parent keeps the old state, case → error."""

    message: str
    element_id: str | None
    retire: bool = False  # the process ends after this reply (it ran out of memory)


@dataclass
class _Child:
    ctx: RuntimeContext
    status: Any  # shared char buffer: the element being run (read by the parent on a kill)
    pid: int = 0
    definitions: OrderedDict[str, ProcessDefinition] = field(default_factory=OrderedDict)


def child_main(conn: Connection, ctx: RuntimeContext, memory_limit_bytes: int, status: Any) -> None:
    """Serve requests until the pipe closes."""
    if memory_limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    child = _Child(ctx=replace(ctx, supervisor=None), status=status, pid=os.getpid())
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: Any = _handle(child, request)
        except MemoryError:
            reply = Failed(OUT_OF_MEMORY, _current(child), retire=True)
        except Exception as err:
            reply = Failed(f"the engine failed: {type(err).__name__}: {err}"[:2000], _current(child))
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(Failed(OUT_OF_MEMORY, _current(child), retire=True))
            return
        except Exception as err:  # e.g. a value that cannot be pickled slipped through
            conn.send(Failed(f"the step's result cannot be stored: {err}"[:2000], _current(child)))
        if isinstance(reply, Failed) and reply.retire:
            return  # start afresh after running out of memory


def _current(child: _Child) -> str | None:
    raw = bytes(child.status.raw).split(b"\0", 1)[0]
    return raw.decode("utf-8", "replace") or None


def _mark(child: _Child, element: str | None) -> None:
    data = (element or "").encode("utf-8")[: ctypes.sizeof(child.status) - 1]
    child.status.raw = data + b"\0" * (ctypes.sizeof(child.status) - len(data))


def _definition(child: _Child, ref: DefinitionRef) -> ProcessDefinition | None:
    cached = child.definitions.get(ref.digest)
    if cached is not None:
        child.definitions.move_to_end(ref.digest)
        return cached
    if ref.files is None:
        return None
    spec, subprocess_specs = load_process_specs(ref.key, ref.files)
    definition = ProcessDefinition(ref.id, ref.key, ref.version, spec, subprocess_specs, ref.files)
    child.definitions[ref.digest] = definition
    while len(child.definitions) > SPEC_CACHE_SIZE:
        child.definitions.popitem(last=False)
    return definition


def _handle(child: _Child, request: Any) -> Any:
    if isinstance(request, DefineRequest):
        _definition(child, request.definition)
        return "defined"
    if isinstance(request, RenderRequest):
        try:
            return render_limited(request.source, request.context, request.time_limit, request.max_chars)
        except Exception as err:
            return Raised(None, f"{type(err).__name__}: {err}"[:500])
    definition = _definition(child, request.definition)
    if definition is None:
        return NeedDefinition(request.definition.digest)
    _mark(child, None)
    try:
        instance, value = _run(child, definition, request)
    except (TaskNotReady, ValueError) as err:
        return Raised(err, str(err))
    return _result(child, instance, value)


def _run(child: _Child, definition: ProcessDefinition, request: StepRequest) -> tuple[EngineInstance, Any]:
    ctx, op, args = child.ctx, request.op, request.args
    if op == "start":
        variables, now = args
        return EngineInstance.start(definition, variables, now, ctx, on_task=lambda e: _mark(child, e)), None
    if op == "initial":
        (variables,) = args
        return EngineInstance.create(definition, variables, ctx), None
    assert request.state is not None
    instance = EngineInstance.load(definition, request.state, ctx, on_task=lambda e: _mark(child, e))
    value: Any = None
    if op == "complete":
        task_id, data, now = args
        instance.complete_task(task_id, data, now)
    elif op == "deliver":
        value = instance.deliver_message(*args)
    elif op == "fire":
        fired: list[WaitingTimer] = instance.fire_due_timers(*args)
        value = fired
    elif op == "retry":
        instance.retry(*args)
    elif op == "cancel":
        instance.cancel()
    elif op == "snapshot":
        pass
    else:
        raise ValueError(f"unknown step {op!r}")
    return instance, value


def _result(child: _Child, instance: EngineInstance, value: Any) -> StepResult | Failed:
    snapshot = instance.snapshot()
    try:
        check_variables(snapshot.variables)
    except UnstorableValue as err:
        return Failed(f"the step left a value the case cannot store: {err}", _current(child))
    try:
        state = instance.dump()
    except Exception as err:
        detail = "".join(traceback.format_exception_only(err)).strip()
        return Failed(f"the step's state cannot be stored: {detail}"[:2000], _current(child))
    return StepResult(
        state=state,
        snapshot=snapshot,
        service_calls=list(instance.service_calls),
        error=instance.error,
        last_element=instance.last_element_id(),
        value=value,
        # not getrusage(): it took 1-8 ms per call in a busy step process on a loaded machine
        pid=child.pid,
    )
