"""Moving a running workflow to another version of its process, with SpiffWorkflow's own diff tools.

`SpiffWorkflow.bpmn.util.diff` aligns the old version's task specs with the new one's (`SpecDiff`,
`diff_dependencies`: by BPMN id, then by position) and lists what changed per spec; `WorkflowDiff`
and `migrate_workflow` point the workflow's tasks at the aligned new specs. A case moves to an
element of another id only by the caller's `mapping` (old id → new id): alignments by position
are dropped, so a renamed element the case waits at is refused rather than guessed. On top of
that this module decides, per element the case has touched, whether the move can be carried out
(`Blocker`s otherwise) and reports per element what happens (`ElementChange`: kept, reset,
added, removed, mapped).

The rules (the closest peer refuses any change to a started or completed task; we refuse only
what cannot be carried over):

- an element the case ran (completed, started, failed) or waits at must exist in the new version,
  under its own id, by SpiffWorkflow's alignment, or by the caller's `mapping` (old id → new id);
- a completed or running element may not change its kind (a user task that became a subprocess);
  a running subprocess or call activity may not switch to another definition, and its inner
  elements follow the same rules (a running subprocess whose inner structure changed
  incompatibly is refused);
- what the case waits at is *kept* (same task id, so claims stay; same due time for timers) unless
  the element itself changed (its form, timer expression, script, ...): then it is *reset* — the
  task is re-entered under the new definition (a timer restarts from the migration's time). Only
  the path after a waiting element is re-predicted from the new version;
- a failed element is kept in `error`: the next retry runs it with the new definition;
- elements the case never reached may change freely; cancelled branches of removed elements are
  dropped from the tree.

SpiffWorkflow's default for `migrate_workflow` is to reset every ready and waiting task, which
would restart timers and re-enter every open user task: we pass a mask that matches no task and
reset only the elements that changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, diff_dependencies, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .engine_time import engine_time
from .instance import EngineInstance, ProcessDefinition, RuntimeContext
from .serializer import dump_workflow, load_workflow, spec_registry

# A state bit no task ever has: `migrate_workflow` resets the tasks in `reset_mask` (and treats 0
# as "the default"), we reset the changed ones ourselves.
_NO_TASK_STATE = 1 << 20
# Attributes of a spec that say how it is wired, not what it does: for a task the case already
# holds they matter only for what comes next, which is re-predicted anyway.
_WIRING = frozenset({"inputs", "outputs"})
_NAMING = frozenset({"name", "bpmn_id"})
# What only labels an element: the open task's row takes the new title and lane, nothing re-runs.
_COSMETIC = frozenset({"bpmn_name", "description", "documentation", "lane"})
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_RAN = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
_STATE_WORDS = {
    TaskState.READY: "open",
    TaskState.WAITING: "waiting",
    TaskState.STARTED: "running",
    TaskState.COMPLETED: "completed",
    TaskState.ERROR: "failed",
    TaskState.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class ElementChange:
    """What happens to one BPMN element of the case."""

    element_id: str
    change: str  # kept | reset | added | removed | mapped
    detail: str


@dataclass(frozen=True)
class Blocker:
    """Why the move cannot be carried out, at one element."""

    element_id: str
    message: str


class InvalidMapping(ValueError):
    """The mapping names elements that do not exist; `problems` lists (element_id, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{e}: {m}" for e, m in problems))
        self.problems = problems


@dataclass
class MigrationResult:
    """The per-element report, the blockers, and (when there are none) the moved instance."""

    changes: list[ElementChange]
    blockers: list[Blocker]
    instance: EngineInstance | None = None
    # task ids (str) of the tasks that were re-entered under the new definition
    reset_tasks: set[str] = field(default_factory=set)


def _element(spec: Any) -> str | None:
    """The BPMN id of a spec, also for the helper specs SpiffWorkflow adds (`call.BoundaryEventSplit`)."""
    bpmn_id = getattr(spec, "bpmn_id", None)
    if bpmn_id:
        return str(bpmn_id)
    name = str(getattr(spec, "name", "") or "")
    return name.split(".", 1)[0] if "." in name else None


def _state_word(task: Task) -> str:
    for state, word in _STATE_WORDS.items():
        if task.has_state(state):
            return word
    return "predicted"


class _Alignment(dict[Any, Any]):
    """SpecDiff's old spec → new spec map, answering None for a spec its traversal never met."""

    def __missing__(self, key: Any) -> None:
        return None


class _SpecPlan:
    """The alignment of one old process spec with its new counterpart, with the mapping applied."""

    def __init__(
        self, registry: Any, old: BpmnProcessSpec, new: BpmnProcessSpec | None, diff: SpecDiff | None
    ):
        self.registry = registry
        self.old = old
        self.new = new
        self.diff = diff
        self.mapped: dict[Any, Any] = {}  # old spec -> new spec, by the caller's mapping
        if diff is not None:
            diff.alignment = _Alignment(diff.alignment)
            if new is not None:
                self._align_unreached(new)

    def _align_unreached(self, new: BpmnProcessSpec) -> None:
        """SpecDiff walks the old spec from its start along the outputs, so it never meets specs
        nothing flows into (event subprocesses, their start events): align those by name."""
        assert self.diff is not None
        for name, spec in self.old.task_specs.items():
            target = new.task_specs.get(name)
            if spec not in self.diff.alignment and target is not None:
                self.diff.alignment[spec] = target
                self.diff.comparisons[spec] = self.compare(spec, target)
                if target in self.diff.added:
                    self.diff.added.remove(target)

    def apply_mapping(self, mapping: Mapping[str, str]) -> None:
        if self.new is None or self.diff is None:
            return
        for spec in self.old.task_specs.values():
            element = _element(spec)
            if element is None or element not in mapping:
                continue
            suffix = spec.name[len(element) :] if spec.name.startswith(element) else ""
            target = self.new.task_specs.get(mapping[element] + suffix)
            if target is None and not suffix:
                target = next(
                    (
                        s
                        for s in self.new.task_specs.values()
                        if getattr(s, "bpmn_id", None) == mapping[element]
                    ),
                    None,
                )
            if target is None:
                continue
            self.diff.alignment[spec] = target
            if target in self.diff.added:
                self.diff.added.remove(target)
            self.diff.comparisons[spec] = self.compare(spec, target)
            self.mapped[spec] = target

    def drop_positional(self) -> None:
        """Forget SpiffWorkflow's alignments by position: a case moves from one element to another
        of a different id only when the caller's mapping says so."""
        if self.diff is None:
            return
        for spec, target in list(self.diff.alignment.items()):
            if target is not None and spec not in self.mapped and _element(target) != _element(spec):
                self.diff.alignment[spec] = None
                self.diff.comparisons.pop(spec, None)

    def compare(self, old: Any, new: Any) -> list[str]:
        first, second = self.registry.convert(old), self.registry.convert(new)
        if first.get("typename") != second.get("typename"):
            return ["typename"]
        return [key for key, value in first.items() if second.get(key) != value]

    def aligned(self, spec: Any) -> Any:
        return None if self.diff is None else self.diff.alignment.get(spec)

    def changes_of(self, spec: Any, cosmetic: bool = True) -> list[str]:
        """What changed in the element itself (not its wiring, not its id when it was renamed;
        with `cosmetic=False` not its labels either)."""
        if self.diff is None:
            return []
        ignored = _WIRING | (_NAMING if self.renamed(spec) else frozenset())
        if not cosmetic:
            ignored |= _COSMETIC
        return [key for key in self.diff.comparisons.get(spec, []) if key not in ignored]

    def renamed(self, spec: Any) -> bool:
        target = self.aligned(spec)
        return target is not None and _element(target) != _element(spec)


_PlanKey = tuple[int, int, tuple[tuple[str, str], ...]]
_PLANS: OrderedDict[_PlanKey, tuple[ProcessDefinition, ProcessDefinition, dict[str, _SpecPlan]]] = (
    OrderedDict()
)
_PLANS_LOCK = threading.Lock()
_PLANS_MAX = 64


def _plans(
    old: ProcessDefinition, target: ProcessDefinition, mapping: Mapping[str, str]
) -> dict[str, _SpecPlan]:
    """The spec plans of a (version, version, mapping) move, computed once: versions never change,
    so a batch of thousands of cases diffs the two versions one time."""
    # keyed by the parsed definitions themselves: the plans hold their spec objects
    key = (id(old), id(target), tuple(sorted(mapping.items())))
    with _PLANS_LOCK:
        cached = _PLANS.get(key)
        if cached is not None and cached[0] is old and cached[1] is target:
            _PLANS.move_to_end(key)
            return cached[2]
    plans = _build_plans(old, target, mapping)
    with _PLANS_LOCK:
        _PLANS[key] = (old, target, plans)
        while len(_PLANS) > _PLANS_MAX:
            _PLANS.popitem(last=False)
    return plans


def _build_plans(
    old: ProcessDefinition, target: ProcessDefinition, mapping: Mapping[str, str]
) -> dict[str, _SpecPlan]:
    """One plan per old process spec (the top process under its own name, then its dependencies)."""
    registry = spec_registry()
    plans = {
        old.spec.name: _SpecPlan(registry, old.spec, target.spec, SpecDiff(registry, old.spec, target.spec))
    }
    dependencies, _new_names = diff_dependencies(registry, old.subprocess_specs, target.subprocess_specs)
    for name, spec_diff in dependencies.items():
        plans[name] = _SpecPlan(
            registry, old.subprocess_specs[name], target.subprocess_specs.get(name), spec_diff
        )
    for plan in plans.values():
        plan.apply_mapping(mapping)
        plan.drop_positional()
    return plans


def _check_mapping(instance: EngineInstance, target: ProcessDefinition, mapping: Mapping[str, str]) -> None:
    def elements(specs: Iterable[BpmnProcessSpec]) -> set[str]:
        return {e for spec in specs for ts in spec.task_specs.values() if (e := getattr(ts, "bpmn_id", None))}

    old = elements([instance.definition.spec, *instance.definition.subprocess_specs.values()])
    new = elements([target.spec, *target.subprocess_specs.values()])
    problems = [
        (source, f"{source!r} is not an element of version {instance.definition.version}")
        for source in mapping
        if source not in old
    ]
    problems += [
        (source, f"{dest!r} is not an element of version {target.version}")
        for source, dest in mapping.items()
        if dest not in new
    ]
    if problems:
        raise InvalidMapping(problems)


def _workflows(workflow: BpmnWorkflow) -> list[Any]:
    return [workflow, *workflow.subprocesses.values()]


def _blockers(
    workflow: BpmnWorkflow, plans: Mapping[str, _SpecPlan], target: ProcessDefinition
) -> list[Blocker]:
    version = target.version
    elsewhere = _containers(target)
    found: list[Blocker] = []
    for sub_id, sub in workflow.subprocesses.items():
        plan = plans.get(sub.spec.name)
        if plan is None or plan.new is None:
            owner = workflow.get_task_from_id(sub_id)
            element = _element(owner.task_spec) if owner is not None else sub.spec.name
            found.append(
                Blocker(
                    element or sub.spec.name,
                    f"the running subprocess {sub.spec.name!r} has no definition in version {version}",
                )
            )
    for wf in _workflows(workflow):
        plan = plans.get(wf.spec.name)
        if plan is None or plan.new is None:
            continue
        for task in wf.get_tasks(skip_subprocesses=True):
            blocker = _task_blocker(task, plan, version, elsewhere.get(_element(task.task_spec) or ""))
            if blocker is not None:
                found.append(blocker)
    by_element: dict[str, Blocker] = {}
    for blocker in sorted(found, key=lambda b: not b.message.startswith("the case waits")):
        by_element.setdefault(blocker.element_id, blocker)
    return list(by_element.values())


def _containers(target: ProcessDefinition) -> dict[str, str]:
    """Element id → the (sub)process of `target` that holds it."""
    found: dict[str, str] = {}
    for spec in [target.spec, *target.subprocess_specs.values()]:
        for ts in spec.task_specs.values():
            if element := getattr(ts, "bpmn_id", None):
                found.setdefault(element, spec.name)
    return found


def _task_blocker(task: Task, plan: _SpecPlan, version: int, moved_to: str | None = None) -> Blocker | None:
    spec = task.task_spec
    element = _element(spec) or spec.name
    if not task.has_state(_RAN | _LIVE):
        return None  # predicted, or a cancelled branch: nothing of it has happened
    target = plan.aligned(spec)
    if target is None:
        where = f"version {version} does not have it here"
        if moved_to is not None and moved_to != plan.old.name:
            # a person reads "does not have" as "deleted"; say that it moved, and why that matters
            where = (
                f"version {version} has it inside {moved_to!r} instead of {plan.old.name!r}, and a "
                "case cannot be carried from one subprocess into another"
            )
        if task.has_state(TaskState.READY | TaskState.WAITING):
            return Blocker(
                element, f"the case waits at {element!r}; {where}: map it to an element of version {version}"
            )
        return Blocker(
            element,
            f"{element!r} {_state_word(task)} on this case; {where}: "
            f"map it to an element of version {version}",
        )
    changes = plan.changes_of(spec)
    if "typename" in changes and task.has_state(TaskState.COMPLETED | TaskState.STARTED):
        kind = plan.registry.convert(target).get("typename")
        return Blocker(
            element, f"{element!r} {_state_word(task)} on this case; version {version} makes it a {kind}"
        )
    if task.has_state(TaskState.STARTED) and "spec" in changes:
        return Blocker(
            element,
            f"the running subprocess {element!r} calls another definition in version {version}",
        )
    return None


def _states(workflow: BpmnWorkflow) -> dict[str, list[str]]:
    """What the case did at each element (open, waiting, completed, ...), before the move."""
    states: dict[str, list[str]] = {}
    for wf in _workflows(workflow):
        for task in wf.get_tasks(skip_subprocesses=True):
            if task.has_state(_RAN | _LIVE) and getattr(task.task_spec, "bpmn_id", None):
                states.setdefault(task.task_spec.bpmn_id, []).append(_state_word(task))
    return states


def _report(
    states: Mapping[str, list[str]],
    plans: Mapping[str, _SpecPlan],
    target: ProcessDefinition,
    reset_elements: set[str],
) -> list[ElementChange]:
    """One entry per BPMN element of the old and the new version."""
    changes: dict[str, ElementChange] = {}
    reached_new: set[str] = set()
    for plan in plans.values():
        for spec in plan.old.task_specs.values():
            element = getattr(spec, "bpmn_id", None)
            if not element or element in changes:
                continue
            here = ", ".join(sorted(set(states.get(element, [])))) or "not reached"
            aligned = plan.aligned(spec)
            if aligned is None:
                changes[element] = ElementChange(
                    element, "removed", f"not in version {target.version} ({here})"
                )
                continue
            reached_new.add(aligned.bpmn_id)
            edited = plan.changes_of(spec)
            edit = f"; changed: {', '.join(edited)}" if edited else ""
            if plan.renamed(spec):
                changes[element] = ElementChange(
                    element, "mapped", f"{element} → {aligned.bpmn_id} by the mapping ({here}){edit}"
                )
            elif element in reset_elements and "failed" in here:
                changes[element] = ElementChange(
                    element,
                    "reset",
                    f"{here}; the next retry runs it with version {target.version}'s definition{edit}",
                )
            elif element in reset_elements:
                changes[element] = ElementChange(
                    element, "reset", f"{here}; re-entered with version {target.version}'s definition{edit}"
                )
            else:
                changes[element] = ElementChange(element, "kept", f"{here}{edit}")
    for spec_set in [target.spec, *target.subprocess_specs.values()]:
        for spec in spec_set.task_specs.values():
            element = getattr(spec, "bpmn_id", None)
            if element and element not in changes and element not in reached_new:
                changes[element] = ElementChange(element, "added", f"new in version {target.version}")
    return list(changes.values())


def _repredict(task: Task) -> None:
    """Rebuild the predicted path after a live task from its (new) spec, keeping the task as it is."""
    task._drop_children(force=True)
    task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)


def _prune_never_run(wf: Any, known: set[int]) -> None:
    """Drop cancelled and predicted tasks of elements the new version does not have."""
    for task in list(wf.get_tasks(skip_subprocesses=True)):
        if task.id not in wf.tasks or task.parent is None:
            continue
        if id(task.task_spec) not in known and not task.has_state(_RAN | _LIVE):
            wf._remove_task(task.id)


def _apply(
    workflow: BpmnWorkflow,
    plans: Mapping[str, _SpecPlan],
    target: ProcessDefinition,
    now: datetime,
) -> tuple[set[str], set[str]]:
    """Move the workflow in place; return the ids of the reset tasks and their elements."""
    to_reset: list[Task] = []
    to_repredict: list[Task] = []
    failed_changed: list[Task] = []  # run again, with the new definition, by the next retry
    for wf in _workflows(workflow):
        plan = plans[wf.spec.name]
        failed_changed += [
            t
            for t in wf.get_tasks(skip_subprocesses=True, state=TaskState.ERROR)
            if plan.changes_of(t.task_spec, cosmetic=False)
        ]
        for task in wf.get_tasks(skip_subprocesses=True, state=_LIVE):
            if plan.changes_of(task.task_spec, cosmetic=False) and not task.has_state(TaskState.STARTED):
                to_reset.append(task)
            else:
                to_repredict.append(task)
    last_task = workflow.last_task
    subworkflows = list(workflow.subprocesses.values())
    with engine_time(now):
        # what `diff_workflow` does, with the (cached) spec diffs of the two versions
        _migrate(workflow, plans[workflow.spec.name], target.spec)
        workflow.subprocess_specs = target.subprocess_specs
        for sub in subworkflows:
            _migrate(sub, plans[sub.spec.name], target.subprocess_specs[sub.spec.name])
        for task in to_repredict:
            _repredict(task)
        for task in to_reset:
            task.reset_branch(None)
        known = {id(spec) for spec in _all_specs(target)}
        for wf in _workflows(workflow):
            _prune_never_run(wf, known)
    # `migrate_workflow` looks the last task up by object among the ids and always clears it
    if last_task is not None and last_task.id in last_task.workflow.tasks:
        workflow.last_task = last_task
    failed = [t for t in failed_changed if _element(t.task_spec)]
    return {str(t.id) for t in to_reset}, {e for t in [*to_reset, *failed] if (e := _element(t.task_spec))}


def _migrate(wf: Any, plan: _SpecPlan, new_spec: BpmnProcessSpec) -> None:
    migrate_workflow(WorkflowDiff(wf, plan.diff), wf, new_spec, reset_mask=_NO_TASK_STATE)


def migrate_instance(
    instance: EngineInstance,
    target: ProcessDefinition,
    mapping: Mapping[str, str],
    now: datetime,
    ctx: RuntimeContext,
) -> MigrationResult:
    """Plan the move of `instance` to `target` and, when nothing blocks it, carry it out.

    `instance` is changed in place and must not be used afterwards; the moved case is the
    result's `instance` (restored from the dumped state with the new version's specs, which also
    proves the state loads). Raises `InvalidMapping` for a mapping naming unknown elements.
    """
    _check_mapping(instance, target, mapping)
    plans = _plans(instance.definition, target, mapping)
    workflow = instance.workflow
    states = _states(workflow)
    blockers = _blockers(workflow, plans, target)
    if blockers:
        return MigrationResult(_report(states, plans, target, set()), blockers)
    try:
        reset_ids, reset_elements = _apply(workflow, plans, target, now)
    except Exception as err:  # the engine could not rebuild the tree: refuse rather than fail
        element = _element(getattr(getattr(err, "task", None), "task_spec", None)) or target.key
        message = f"the engine could not move the case: {type(err).__name__}: {err}"[:2000]
        return MigrationResult(_report(states, plans, target, set()), [Blocker(element, message)])
    changes = _report(states, plans, target, reset_elements)
    # a safety net (the rules above should have refused it): every task must have a new spec
    known = {id(spec) for spec in _all_specs(target)}
    orphans = sorted(
        {
            _element(t.task_spec) or t.task_spec.name
            for wf in _workflows(workflow)
            for t in wf.tasks.values()
            if id(t.task_spec) not in known
        }
    )
    if orphans:
        blockers = [Blocker(e, f"has no element in version {target.version}") for e in orphans]
        return MigrationResult(changes, blockers)
    restored = load_workflow(dump_workflow(workflow), target.spec, target.subprocess_specs)
    return MigrationResult(changes, [], EngineInstance(target, restored, ctx), reset_ids)


def _all_specs(target: ProcessDefinition) -> list[Any]:
    return [
        ts for spec in [target.spec, *target.subprocess_specs.values()] for ts in spec.task_specs.values()
    ]
