"""Supervised execution: engine steps run in child processes with a memory cap and a deadline.

Every limit inside the sandbox (deadline checks, size guards) depends on the code reaching a
check; a single C call (``x*x`` on a huge integer, ``int(Decimal('1e300000'))``) does not. So the
parent never runs diagram code: each step — start, complete, message, timers, retry, cancel — is
sent to a child process from a small pool. The child's address space is capped (``RLIMIT_AS``,
so an allocation beyond it raises `MemoryError` in the child, never an OOM kill of the service)
and the parent waits at most the step time limit: then it kills the child (``SIGKILL``), starts a
fresh one, keeps the case's previous state (the step is rolled back) and reports the step as
failed on the element the child was running. Task instructions are rendered the same way.

`SupervisedInstance` has the `EngineInstance` API the runtime uses, so the runtime does not know
which one it holds.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.sharedctypes import RawArray
from typing import Any, TypeVar

from .instance import (
    EngineError,
    EngineInstance,
    ProcessDefinition,
    RuntimeContext,
    ServiceCall,
    Snapshot,
    WaitingTimer,
)
from .step_process import (
    DefineRequest,
    DefinitionRef,
    Failed,
    NeedDefinition,
    Raised,
    RenderRequest,
    StepRequest,
    StepResult,
    child_main,
)

log = logging.getLogger("xinedai_workflow.engine.supervisor")
T = TypeVar("T")

START_TIMEOUT_SECONDS = 120.0
PARSE_TIMEOUT_SECONDS = 120.0  # parsing a deployed version's specs: validated at deploy, not diagram code
# "__main__" once in the fork server: without it every new step process imports the main module
# again (the CLI, pytest: seconds on a loaded machine)
_PRELOAD = ["__main__", "xinedai_workflow.engine.step_process", "xinedai_workflow.runtime.script_helpers"]


@dataclass(frozen=True)
class IsolationLimits:
    """The limits that hold against any diagram code (see the README, "Limits")."""

    step_time_limit_seconds: float = 10.0
    memory_limit_mb: int = 1024
    processes: int = 4
    render_time_limit_seconds: float = 1.0
    render_max_chars: int = 100_000


class StepStopped(Exception):
    """The child was killed at the deadline or ended on its own; the step did not finish."""

    def __init__(self, message: str, element_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id


class _Child:
    """One step process and the pipe to it."""

    def __init__(self, context: Any, ctx: RuntimeContext, memory_limit_bytes: int) -> None:
        self.status = RawArray("c", 256)
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=child_main,
            args=(child_end, ctx, memory_limit_bytes, self.status),
            name="xinedai-step",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        # started and imported before its first step's deadline runs (slow on a loaded machine)
        if not self.conn.poll(START_TIMEOUT_SECONDS) or self.conn.recv() != "ready":
            self.kill()
            raise RuntimeError(f"a step process did not start within {START_TIMEOUT_SECONDS} s")

    def element(self) -> str | None:
        raw = bytes(self.status.raw).split(b"\0", 1)[0]
        return raw.decode("utf-8", "replace") or None

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class StepSupervisor:
    """A pool of step processes for one runtime context (started lazily, replaced when killed)."""

    def __init__(self, ctx: RuntimeContext, limits: IsolationLimits) -> None:
        self.limits = limits
        self._child_ctx = replace(ctx, supervisor=None)
        self._mp = multiprocessing.get_context("forkserver")
        self._mp.set_forkserver_preload(_PRELOAD)
        self._idle: list[_Child] = []
        self._all: set[_Child] = set()
        self._starting = 0
        self._cond = threading.Condition()
        # content digest per version's files (the object held, so its id cannot be reused)
        self._digests: dict[int, tuple[Mapping[str, bytes], str]] = {}
        self.kills = 0  # steps stopped at the deadline or by a child's death (a metric)
        self._threads: ThreadPoolExecutor | None = None

    # -- the pool ---------------------------------------------------------------------------
    def _checkout(self) -> _Child:
        with self._cond:
            while not self._idle and len(self._all) + self._starting >= self.limits.processes:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._starting += 1  # a slot, while the new process starts outside the lock
        try:
            child = _Child(self._mp, self._child_ctx, self.limits.memory_limit_mb * 1024 * 1024)
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
        with self._cond:
            self._all.add(child)
        return child

    def _checkin(self, child: _Child, alive: bool) -> None:
        # no is_alive() poll per step: a process that ends says so (`Failed.retire`), and one
        # that died while idle is noticed when the next request cannot be written (`_exchange`)
        reuse = alive
        if not reuse:
            child.kill()  # e.g. a request that could not be sent: the child's state is unknown
        with self._cond:
            if reuse:
                self._idle.append(child)
            else:
                self._all.discard(child)
            self._cond.notify()

    def map(self, step: Callable[[SupervisedInstance], T], instances: list[SupervisedInstance]) -> list[T]:
        """Run `step` on many instances side by side, one step process each (results in order)."""
        with self._cond:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.limits.processes, thread_name_prefix="xinedai-step")
        return list(self._threads.map(step, instances))

    def close(self) -> None:
        """Stop every step process (idle ones now; busy ones are killed too)."""
        with self._cond:
            children, self._all, self._idle = list(self._all), set(), []
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)
        for child in children:
            child.kill()

    def _exchange(self, request: Any, time_limit: float, files: Mapping[str, bytes] | None = None) -> Any:
        child: _Child | None = self._checkout()
        alive = False
        try:
            assert child is not None
            pending: Any = None  # written
            if not self._deliver(child, request):  # it died while idle: nothing ran, take a fresh one
                self._checkin(child, False)
                child = None
                child = self._checkout()
                pending = request
            # the limit starts once a process is there (starting one is not the step's time)
            started = time.monotonic()
            deadline = started + time_limit
            reply = self._send(child, pending, deadline)
            if isinstance(reply, NeedDefinition) and files is not None:
                ref = replace(request.definition, files=dict(files))
                self._send(child, DefineRequest(ref), time.monotonic() + PARSE_TIMEOUT_SECONDS)
                # the step's own time limit starts again once its specs are there
                reply = self._send(child, request, deadline + (time.monotonic() - started))
            alive = not (isinstance(reply, Failed) and reply.retire)
            return reply
        finally:
            if child is not None:
                self._checkin(child, alive)

    @staticmethod
    def _deliver(child: _Child, request: Any) -> bool:
        """Write a request to an idle process; False when it is gone (the pipe is closed)."""
        try:
            child.conn.send(request)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def _send(self, child: _Child, request: Any, deadline: float) -> Any:
        """Send `request` (None: already sent) and wait for the reply until `deadline`."""
        try:
            if request is not None:
                child.conn.send(request)
            if child.conn.poll(max(deadline - time.monotonic(), 0)):
                return child.conn.recv()
        except (EOFError, OSError) as err:
            element = child.element()
            child.kill()
            self.kills += 1
            code = child.process.exitcode
            log.warning("step process ended (exit code %s) while running %s: %s", code, element, err)
            raise StepStopped(
                f"the engine process running this step ended (exit code {code}); the step was rolled back",
                element,
            ) from err
        element = child.element()
        child.kill()
        self.kills += 1
        limit = self.limits.step_time_limit_seconds
        log.warning("step killed at its time limit of %g s while running %s", limit, element)
        raise StepStopped(f"the step exceeded its time limit of {limit:g} s and was rolled back", element)

    def _ref(self, definition: ProcessDefinition) -> DefinitionRef:
        known = self._digests.get(id(definition.files))
        if known is not None and known[0] is definition.files:
            digest = known[1]
        else:
            sha = hashlib.sha256(definition.key.encode())
            for name in sorted(definition.files):
                sha.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(definition.files[name]).digest())
            # One parsed spec in a step process per definition object of the parent: the same reuse
            # as in-process (the registry's cache), never specs shared between registries.
            digest = f"{sha.hexdigest()}:{id(definition.files):x}"
            if len(self._digests) > 1024:
                self._digests.clear()
            self._digests[id(definition.files)] = (definition.files, digest)
        return DefinitionRef(digest, definition.id, definition.key, definition.version)

    def run(self, definition: ProcessDefinition, op: str, state: str | None, *args: Any) -> Any:
        """Run one step in a child; returns its reply (`StepResult`, `Raised` or `Failed`)."""
        request = StepRequest(op, self._ref(definition), state, args)
        return self._exchange(request, self.limits.step_time_limit_seconds, definition.files)

    # -- the EngineInstance factory ---------------------------------------------------------
    def start(
        self, definition: ProcessDefinition, variables: Mapping[str, Any], now: datetime
    ) -> SupervisedInstance:
        instance = SupervisedInstance(self, definition, None)
        instance._start(dict(variables), now)
        return instance

    def load(self, definition: ProcessDefinition, state: str) -> SupervisedInstance:
        return SupervisedInstance(self, definition, state)

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render template text (task instructions) in a child, within the render limits; the
        child is killed if it overruns (raises `StepStopped` or `ValueError`)."""
        limits = self.limits
        request = RenderRequest(
            source, dict(context), limits.render_time_limit_seconds, limits.render_max_chars
        )
        reply = self._exchange(request, limits.render_time_limit_seconds + 1.0)
        if isinstance(reply, Raised):
            raise ValueError(reply.message)
        if isinstance(reply, Failed):
            raise ValueError(reply.message)
        return str(reply)


class SupervisedInstance:
    """The parent's handle on one case's workflow; every step runs in a step process."""

    def __init__(self, supervisor: StepSupervisor, definition: ProcessDefinition, state: str | None) -> None:
        self.supervisor = supervisor
        self.definition = definition
        self._state = state
        self._result: StepResult | None = None
        self.error: EngineError | None = None
        self.service_calls: list[ServiceCall] = []
        self.rolled_back = False
        self._pids: set[int] = set()

    def _run(self, op: str, *args: Any, fallback: tuple[Any, ...] = ()) -> Any:
        try:
            reply = self.supervisor.run(self.definition, op, self._state, *args)
        except StepStopped as stopped:
            return self._roll_back(stopped.message, stopped.element_id, fallback)
        if isinstance(reply, Raised):
            raise reply.error if reply.error is not None else RuntimeError(reply.message)
        if isinstance(reply, Failed):
            return self._roll_back(reply.message, reply.element_id, fallback)
        self._apply(reply)
        return reply.value

    def _apply(self, result: StepResult) -> None:
        self._result = result
        self._state = result.state
        self.error = result.error
        self.service_calls = list(result.service_calls)
        self._pids.add(result.pid)

    def _roll_back(self, message: str, element_id: str | None, fallback: tuple[Any, ...]) -> None:
        """Keep the state from before the step; the case goes to error with the reason."""
        if self._state is None:  # a start: store the new workflow as it was before it ran
            reply = self.supervisor.run(self.definition, "initial", None, *fallback)
        else:
            reply = self.supervisor.run(self.definition, "snapshot", self._state)
        if not isinstance(reply, StepResult):
            raise RuntimeError(f"the case's previous state could not be read back: {reply}")
        error = EngineError(message[:2000], element_id)
        snapshot = replace(reply.snapshot, status="error", error=error)
        self._apply(replace(reply, snapshot=snapshot, error=error, service_calls=[]))
        self.rolled_back = True

    @property
    def max_rss_kb(self) -> int:
        """The peak resident memory (kB) of the step processes that ran this case's steps, as the
        kernel reports it (read on demand; a process that has ended counts 0)."""
        return max((_peak_rss_kb(pid) for pid in self._pids), default=0)

    # -- the EngineInstance API -------------------------------------------------------------
    def _start(self, variables: dict[str, Any], now: datetime) -> None:
        self._run("start", variables, now, fallback=(variables,))

    def complete_task(self, task_id: uuid.UUID, data: Mapping[str, Any], now: datetime) -> None:
        self._run("complete", task_id, dict(data), now)

    def deliver_message(
        self, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any], now: datetime
    ) -> bool:
        caught = self._run("deliver", name, dict(payload), dict(correlation), now)
        return True if self.rolled_back else bool(caught)

    def fire_due_timers(self, now: datetime) -> list[WaitingTimer]:
        fired = self._run("fire", now)
        return list(fired or [])

    def retry(self, now: datetime, variables: Mapping[str, Any] | None = None) -> None:
        self._run("retry", now, dict(variables) if variables else None)

    def cancel(self) -> None:
        self._run("cancel")

    def snapshot(self) -> Snapshot:
        if self._result is None:
            self._run("snapshot")
        assert self._result is not None
        return self._result.snapshot

    def dump(self) -> str:
        if self._state is None:
            raise RuntimeError("the case has no state yet")
        return self._state

    def take_service_calls(self) -> list[ServiceCall]:
        """The service-task calls made since the last take, for the caller's outbox."""
        calls, self.service_calls = self.service_calls, []
        return calls

    def last_element_id(self) -> str | None:
        if self._result is None:
            self._run("snapshot")
        assert self._result is not None
        return self._result.last_element


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


_shared: dict[tuple[Any, ...], StepSupervisor] = {}
_shared_lock = threading.Lock()


def shared_supervisor(ctx: RuntimeContext, limits: IsolationLimits) -> StepSupervisor:
    """One pool per (context, limits) in a process: services built again (tests, the CLI) reuse it."""
    key = (
        id(ctx.helpers),
        ctx.limits,
        ctx.service_operations,
        ctx.default_group,
        ctx.version_helpers,
        limits,
    )
    with _shared_lock:
        supervisor = _shared.get(key)
        if supervisor is None:
            supervisor = _shared[key] = StepSupervisor(ctx, limits)
        return supervisor


Instance = EngineInstance | SupervisedInstance


def start_instance(
    definition: ProcessDefinition, variables: Mapping[str, Any], now: datetime, ctx: RuntimeContext
) -> Instance:
    """Start a workflow: in a step process when the context has a supervisor, else in-process."""
    if isinstance(ctx.supervisor, StepSupervisor):
        return ctx.supervisor.start(definition, variables, now)
    return EngineInstance.start(definition, variables, now, ctx)


def load_instance(definition: ProcessDefinition, state: str, ctx: RuntimeContext) -> Instance:
    """A stored workflow, to run a step on (see `start_instance`)."""
    if isinstance(ctx.supervisor, StepSupervisor):
        return ctx.supervisor.load(definition, state)
    return EngineInstance.load(definition, state, ctx)


def fire_many(instances: list[Instance], now: datetime) -> list[list[WaitingTimer]]:
    """`fire_due_timers` on many instances: side by side in step processes when supervised."""
    supervised = [i for i in instances if isinstance(i, SupervisedInstance)]
    if len(instances) > 1 and len(supervised) == len(instances):
        return supervised[0].supervisor.map(lambda instance: instance.fire_due_timers(now), supervised)
    return [instance.fire_due_timers(now) for instance in instances]
