"""Process tests shipped in a bundle, run in memory with the real engine at every deploy and dry run.

The file format is spiff-arena's BPMN unit test, as it is: ``test_<diagram>.json`` next to (or
under ``tests/`` beside) ``<diagram>.bpmn``, holding ``{"<case>": {"tasks": {"[Process:]TaskId":
{"data": [{...}, ...]}}, "expected_output_json": {...}}}``. Each time a user or manual task is
ready, the next data item given for it completes it; when nothing is ready but a timer waits, the
clock moves to the earliest due timer; the case passes when the process ends with
`expected_output_json` equal to the process's data.

Extensions for a collections process (all optional, in the same case object):

- ``"variables"``: the start variables (an overdue event's fields); ``"start_at"``: ISO time.
- ``"steps"``: a script run before the automatic completion above, in order, each one of
  ``{"complete": "TaskId", "data": {...}}``, ``{"advance": "P3D"}`` (fires due timers),
  ``{"advance_to": "<ISO time>"}``, ``{"message": "payment_received", "payload": {...}}`` and
  ``{"expect": {...}}``.
- ``"expect"`` (also inside steps): ``status``, ``stage``, ``outcome``, ``open_tasks`` (element
  ids, in any order), ``outbox`` (the operations queued so far, in order, or
  ``{"contains": [...]}``), ``waiting`` (timer/message names that must wait) and
  ``variables`` (a subset that must match).

Status, stage and outcome are derived with the service's own rules (`domain.case_rules`).
"""

from __future__ import annotations

import json
import posixpath
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate
from SpiffWorkflow.util.task import TaskState

from ..domain.case_rules import CaseBefore, decide
from .bundle_specs import fresh_definition
from .instance import EngineInstance, ProcessDefinition, RuntimeContext, TaskNotReady, step_report
from .problems import Problem
from .test_files import is_test_file

DEFAULT_START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday
MAX_STEPS = 2_000
STEP_KEYS = frozenset({"complete", "advance", "advance_to", "message", "expect"})


class TestFailed(Exception):
    """A test case did not hold; `element_id` is where the process stood."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


@dataclass
class TestResult:
    file: str
    test: str
    process_key: str
    passed: bool
    message: str | None = None
    element_id: str | None = None
    seconds: float = 0.0


@dataclass
class TestReport:
    results: list[TestResult] = field(default_factory=list)
    visited: dict[str, set[str]] = field(default_factory=dict)
    # per process key, how many times each element ran over all test cases
    hits: dict[str, Counter[str]] = field(default_factory=dict)
    # per process key and user task, the case variables when a test first reached it (sample cases)
    task_variables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    elements: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def element_counts(self) -> dict[str, dict[str, int]]:
        """Per process key, every element with the times the tests ran it (0: never)."""
        return {
            key: {element: self.hits.get(key, Counter())[element] for element in sorted(elements)}
            for key, elements in sorted(self.elements.items())
        }

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> dict[str, Any]:
        """What the deploy answer shows: counts, time and element coverage per process key."""
        coverage = {}
        for key, elements in sorted(self.elements.items()):
            visited = self.visited.get(key, set()) & elements
            coverage[key] = {
                "elements": len(elements),
                "visited": len(visited),
                "percent": round(100 * len(visited) / len(elements), 1) if elements else 100.0,
                "not_visited": sorted(elements - visited),
            }
        return {
            "passed": sum(r.passed for r in self.results),
            "failed": len(self.failures),
            "seconds": round(self.seconds, 3),
            "tests": [
                {"file": r.file, "test": r.test, "process_key": r.process_key, "passed": r.passed}
                for r in self.results
            ],
            "coverage": coverage,
        }


def diagram_of(test_file: str, bpmn_files: list[str]) -> str | None:
    """The .bpmn a test file tests: same stem, same folder or the folder above ``tests/``."""
    stem = posixpath.basename(test_file)[len("test_") : -len(".json")]
    folder = posixpath.dirname(test_file)
    candidates = [posixpath.join(folder, f"{stem}.bpmn")]
    if posixpath.basename(folder) == "tests":
        candidates.append(posixpath.join(posixpath.dirname(folder), f"{stem}.bpmn"))
    for candidate in candidates:
        if candidate in bpmn_files:
            return candidate
    matches = [b for b in bpmn_files if posixpath.basename(b) == f"{stem}.bpmn"]
    return matches[0] if len(matches) == 1 else None


def _named(spec: Any) -> set[str]:
    """Flow-node ids of a spec (task specs that stand for a BPMN element)."""
    return {
        ts.bpmn_id
        for ts in spec.task_specs.values()
        if getattr(ts, "bpmn_id", None) and not ts.bpmn_id.startswith(spec.name + ".")
    }


class _Run:
    """One test case against one process definition."""

    def __init__(self, definition: ProcessDefinition, case: Mapping[str, Any], ctx: RuntimeContext) -> None:
        self.definition = definition
        self.case = case
        self.ctx = ctx
        self.now = _time(case.get("start_at")) if case.get("start_at") else DEFAULT_START
        self.status = "active"
        self.stage: str | None = None
        self._outcome: str | None = None
        self.outbox: list[str] = []
        self.queues = _task_queues(case.get("tasks") or {})
        self.task_variables: dict[str, dict[str, Any]] = {}
        variables = case.get("variables") or {}
        if not isinstance(variables, dict):
            raise TestFailed("variables must be an object")
        self.instance = EngineInstance.start(definition, variables, self.now, ctx)
        self._after_step()

    # -- state --------------------------------------------------------------------------------
    def _after_step(self) -> None:
        # stored and restored after every step, as the service does (the case row holds the state)
        self.outbox += [call.operation for call in self.instance.take_service_calls()]
        error = self.instance.error
        self.instance = EngineInstance.load(self.definition, self.instance.dump(), self.ctx)
        self.instance.error = error
        snapshot = self.instance.snapshot()
        before = CaseBefore(self.status, self.stage, self._outcome)
        decision = decide(before, step_report(snapshot))
        self.status, self.stage, self._outcome = decision.status, decision.stage, decision.outcome
        self.snapshot = snapshot
        for task in snapshot.open_tasks:
            self.task_variables.setdefault(task.element_id, dict(snapshot.variables))
        if snapshot.status == "error" and snapshot.error is not None:
            raise TestFailed(f"the case went to error: {snapshot.error.message}", snapshot.error.element_id)

    def where(self) -> str | None:
        """The element the process stands at: an open task, else a waiting event."""
        snap = self.snapshot
        if snap.open_tasks:
            return snap.open_tasks[0].element_id
        if snap.timers:
            return snap.timers[0].element_id
        waiting = [m for m in snap.messages if m.element_id]
        return waiting[0].element_id if waiting else None

    def outcome(self) -> str | None:
        return self._outcome

    # -- steps --------------------------------------------------------------------------------
    def complete(self, element: str, data: Mapping[str, Any]) -> None:
        tasks = [t for t in self.snapshot.open_tasks if t.element_id == element]
        if not tasks:
            open_ids = [t.element_id for t in self.snapshot.open_tasks]
            raise TestFailed(f"task {element!r} is not open (open: {open_ids or 'none'})", self.where())
        try:
            self.instance.complete_task(tasks[0].task_id, data, self.now)
        except TaskNotReady as err:
            raise TestFailed(f"task {element!r} is not ready", element) from err
        self._after_step()

    def advance_to(self, moment: datetime) -> None:
        """Move the clock, then fire what is due at `moment`, as the worker does once time moved."""
        if moment < self.now:
            raise TestFailed(f"cannot move the clock back to {moment.isoformat()}", self.where())
        self.now = moment
        for _ in range(MAX_STEPS):
            if self.status != "active" or not self.instance.fire_due_timers(moment):
                return
            self._after_step()

    def message(self, name: str, payload: Mapping[str, Any]) -> None:
        loan_id = self.snapshot.variables.get("loan_id")
        correlation = {"loan_id": loan_id} if loan_id is not None else {}
        if not self.instance.deliver_message(name, dict(payload), correlation, self.now):
            raise TestFailed(f"nothing waits for message {name!r} here", self.where())
        self._after_step()

    def expect(self, expected: Mapping[str, Any]) -> None:
        actual: dict[str, Any] = {
            "status": self.status,
            "stage": self.stage,
            "outcome": self.outcome(),
            "open_tasks": sorted(t.element_id for t in self.snapshot.open_tasks),
        }
        for key in ("status", "stage", "outcome"):
            if key in expected and expected[key] != actual[key]:
                raise TestFailed(f"expected {key} {expected[key]!r}, got {actual[key]!r}", self.where())
        if "open_tasks" in expected and sorted(expected["open_tasks"]) != actual["open_tasks"]:
            raise TestFailed(
                f"expected open tasks {sorted(expected['open_tasks'])}, got {actual['open_tasks']}",
                self.where(),
            )
        if "outbox" in expected:
            wanted = expected["outbox"]
            if isinstance(wanted, dict):
                missing = [op for op in wanted.get("contains", []) if op not in self.outbox]
                if missing:
                    raise TestFailed(
                        f"expected outbox messages {missing}, queued: {self.outbox}", self.where()
                    )
            elif list(wanted) != self.outbox:
                raise TestFailed(f"expected outbox {list(wanted)}, queued: {self.outbox}", self.where())
        if "waiting" in expected:
            names = {t.name for t in self.snapshot.timers} | {m.name for m in self.snapshot.messages}
            missing = [n for n in expected["waiting"] if n not in names]
            if missing:
                raise TestFailed(f"expected to wait for {missing}, waiting for {sorted(names)}", self.where())
        for key, value in (expected.get("variables") or {}).items():
            if self.snapshot.variables.get(key) != value:
                got = self.snapshot.variables.get(key, "<missing>")
                raise TestFailed(f"expected variable {key!r} = {value!r}, got {got!r}", self.where())

    def step(self, step: Mapping[str, Any]) -> None:
        kinds = STEP_KEYS.intersection(step)
        if len(kinds) != 1:
            raise TestFailed(f"a step has exactly one of {sorted(STEP_KEYS)}: {dict(step)}")
        kind = next(iter(kinds))
        if kind == "complete":
            self.complete(str(step["complete"]), step.get("data") or {})
        elif kind == "advance":
            self.advance_to(self.now + _duration(step["advance"]))
        elif kind == "advance_to":
            self.advance_to(_time(step["advance_to"]))
        elif kind == "message":
            self.message(str(step["message"]), step.get("payload") or {})
        else:
            self.expect(step["expect"])

    # -- spiff-arena's automatic run ----------------------------------------------------------
    def run_to_end(self) -> None:
        for _ in range(MAX_STEPS):
            if self.status != "active":
                return
            ready = self.snapshot.open_tasks
            if ready:
                # the most recently reached task first (the one a user just got to), like spiff-arena
                task = ready[-1]
                data = self._next_data(task.element_id)
                if data is None:
                    if "steps" in self.case:
                        return  # a scripted case may stop at an open task
                    raise TestFailed(f"no data given for task {task.element_id!r}", task.element_id)
                self.complete(task.element_id, data)
                continue
            timers = self.instance.snapshot_timers()
            if timers and "steps" not in self.case:  # a scripted case moves the clock itself
                self.advance_to(max(self.now, min(t.due_at for t in timers)))
                continue
            return
        raise TestFailed(f"more than {MAX_STEPS} steps", self.where())

    def _next_data(self, element: str) -> dict[str, Any] | None:
        for key in (f"{self.definition.key}:{element}", element):
            queue = self.queues.get(key)
            if queue:
                return queue.pop(0)
        for key, queue in self.queues.items():
            if key.endswith(f":{element}") and queue:
                return queue.pop(0)
        return None

    def visited(self) -> set[str]:
        return set(self.hits())

    def hits(self) -> Counter[str]:
        """How many times each element was reached (a loop's element counts once per pass)."""
        workflows = [self.instance.workflow, *self.instance.workflow.subprocesses.values()]
        done = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        return Counter(
            t.task_spec.bpmn_id for w in workflows for t in w.get_tasks(state=done) if t.task_spec.bpmn_id
        )

    def final_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.instance.workflow.data.items() if k != "data_objects"}
        if not data and self.instance.workflow.last_task is not None:
            data = dict(self.instance.workflow.last_task.data)
        return data


def _task_queues(tasks: Any) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(tasks, dict):
        raise TestFailed('"tasks" must be an object of "[Process:]TaskId": {"data": [...]}')
    queues = {}
    for key, entry in tasks.items():
        data = entry.get("data") if isinstance(entry, dict) else None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise TestFailed(f'task {key!r} needs {{"data": [{{...}}, ...]}}')
        queues[str(key)] = [dict(d) for d in data]
    return queues


def _duration(value: Any) -> timedelta:
    try:
        result = isodate.parse_duration(str(value))
    except (isodate.ISO8601Error, ValueError) as err:
        raise TestFailed(f"advance needs an ISO-8601 duration, got {value!r}") from err
    if not isinstance(result, timedelta):
        raise TestFailed("advance by days, hours or minutes (years and months have no fixed length)")
    return result


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as err:
        raise TestFailed(f"not an ISO-8601 time: {value!r}") from err
    if moment.tzinfo is None:
        raise TestFailed(f"give the time with its offset: {value!r}")
    return moment


def check_case(run: _Run, case: Mapping[str, Any]) -> None:
    """Play a test case's steps, then spiff-arena's automatic run; raises `TestFailed`."""
    for step in case.get("steps") or []:
        if not isinstance(step, dict):
            raise TestFailed(f"a step must be an object, got {step!r}")
        run.step(step)
    run.run_to_end()
    if "expect" in case:
        run.expect(case["expect"])
    if "expected_output_json" in case:
        if run.status == "active":
            raise TestFailed("the process has not ended (expected_output_json needs its end)", run.where())
        expected, actual = case["expected_output_json"], _jsonable(run.final_data())
        if actual != expected:
            raise TestFailed(
                f"expected output {json.dumps(expected, sort_keys=True, default=str)[:500]}, "
                f"got {json.dumps(actual, sort_keys=True, default=str)[:500]}",
                run.where(),
            )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_tests(
    definitions: Mapping[str, ProcessDefinition],
    files: Mapping[str, bytes],
    process_of_file: Mapping[str, list[str]],
    ctx: RuntimeContext,
) -> TestReport:
    """Run every test file of the bundle against the process of its diagram."""
    report = TestReport()
    started = time.perf_counter()
    bpmn_files = sorted(n for n in files if n.endswith(".bpmn"))
    for name in sorted(n for n in files if is_test_file(n)):
        diagram = diagram_of(name, bpmn_files)
        key = _tested_key(diagram, process_of_file, definitions)
        if key is None:
            continue  # a JSON file named test_* with no diagram of that name: not a process test
        try:
            cases = json.loads(files[name].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            report.problems.append(Problem(name, getattr(err, "lineno", None), None, f"invalid JSON: {err}"))
            continue
        if not isinstance(cases, dict):
            report.problems.append(Problem(name, None, None, "a test file holds an object of test cases"))
            continue
        definition = definitions[key]
        report.elements.setdefault(key, _named_elements(definition))
        for test, case in cases.items():
            began = time.perf_counter()
            result = TestResult(name, str(test), key, passed=True)
            run: _Run | None = None
            try:
                if not isinstance(case, dict):
                    raise TestFailed("a test case must be an object")
                # specs freshly built per case: a run must not see what another left in them
                run = _Run(fresh_definition(definition), case, ctx)
                check_case(run, case)
            except TestFailed as err:
                result.passed, result.message, result.element_id = False, str(err), err.element_id
            except Exception as err:  # the engine failed in a way the test did not foresee
                result.passed, result.message = False, f"{type(err).__name__}: {err}"
            if run is not None:
                hits = run.hits()
                report.visited.setdefault(key, set()).update(hits)
                report.hits.setdefault(key, Counter()).update(hits)
                samples = report.task_variables.setdefault(key, {})
                for element, variables in run.task_variables.items():
                    samples.setdefault(element, variables)
            result.seconds = time.perf_counter() - began
            report.results.append(result)
    report.seconds = time.perf_counter() - started
    return report


def _named_elements(definition: ProcessDefinition) -> set[str]:
    ids: set[str] = set()
    for spec in [definition.spec, *definition.subprocess_specs.values()]:
        ids |= _named(spec)
    return ids


def _tested_key(
    diagram: str | None,
    process_of_file: Mapping[str, list[str]],
    definitions: Mapping[str, ProcessDefinition],
) -> str | None:
    if diagram is None:
        return None
    keys = [k for k in process_of_file.get(diagram, []) if k in definitions]
    if not keys:
        return None
    called = {sub for k in keys for sub in definitions[k].subprocess_specs if sub != k}
    roots = [k for k in keys if k not in called]
    return (roots or keys)[0]
