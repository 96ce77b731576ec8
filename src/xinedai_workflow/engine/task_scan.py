"""The task-tree walk of ``get_tasks(state=...)``, same result and order, without its overhead.

SpiffWorkflow runs ``workflow.get_tasks(state=READY)`` over the whole tree (completed tasks and
subprocesses included) on every pass of ``do_engine_steps`` — 16% of a start of the shipped
diagram. Its iterator pops from the head of a list, rebuilds the list for every parent and calls a
filter object per task. `tasks_in_state` is the same walk — the same descent rule (not below
predicted tasks, into subprocesses except finished ones when finished tasks are not asked for),
the same depth bookkeeping and its limit of 1000, the same depth-first order — on a stack.

No task is skipped and none is found that the iterator would not find, so every READY timer,
boundary event and event-gateway branch runs exactly when it did (tests/engine/test_task_scan.py
compares the two on every step of real cases). `EngineWorkflow` and `EngineSubWorkflow` use it
for every ``get_tasks`` call that filters by state alone.

SpiffWorkflow also walks the tree after every completed task to update its WAITING tasks
(``update_waiting_tasks``, a lazy iterator). Most of those walks find none: `has_waiting` looks
at the workflow's task dictionary first (every task the walk can reach is in it), and only when
one is WAITING does the walk run (`waiting_tasks`, as lazy as the stock iterator) — so the same
tasks are updated in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

MAX_DEPTH = 1000  # SpiffWorkflow's TaskIterator default
_FINISHED = TaskState.FINISHED_MASK
_WAITING = TaskState.WAITING
_FUTURE = TaskState.FUTURE  # the iterator descends below definite tasks only when asked for WAITING


def _descent(state: int) -> tuple[int, bool]:
    """The iterator's descent rule: the lowest state it descends below, and whether it skips
    finished subprocesses."""
    if state & TaskState.PREDICTED_MASK:
        min_state = TaskState.MAYBE
    elif state & TaskState.DEFINITE_MASK:
        min_state = TaskState.FUTURE
    else:
        min_state = TaskState.COMPLETED
    return min_state, state <= _FINISHED


def tasks_in_state(workflow: Any, state: int) -> list[Task]:
    """What ``BpmnTaskIterator(workflow.task_tree, state=state)`` yields, in the same order."""
    top = workflow.top_workflow
    subprocesses = top.subprocesses
    total = len(top.tasks) + sum(len(subprocess.tasks) for subprocess in subprocesses.values())
    if total > MAX_DEPTH:
        return walk_with_depth(workflow, state)
    # The iterator's depth grows by one per task it descends below, so with at most MAX_DEPTH
    # tasks in all it never reaches its limit: no depth bookkeeping (and no parent look-ups).
    min_state, skip_finished_subprocesses = _descent(state)
    # subprocesses by their parent task object (hashed by identity, not by UUID)
    under: dict[Task, Any] = {}
    for subprocess in subprocesses.values():
        parent = top.get_task_from_id(subprocess.parent_task_id)
        if parent is not None:
            under[parent] = subprocess
    found: list[Task] = []
    stack: list[Task] = [workflow.task_tree]  # the iterator's list, reversed: its head is our top
    visited = 0
    while stack:
        task = stack.pop()
        visited += 1
        if visited > total:  # not a tree: leave it to the walk with the iterator's depth limit
            return walk_with_depth(workflow, state)
        subprocess = under.get(task) if under else None
        task_state = task._state
        if subprocess is not None:
            tasks = task.workflow.tasks
            stack.extend([tasks.get(child) for child in reversed(task._children)])
            if not (task_state >= _FINISHED and skip_finished_subprocesses):
                stack.append(subprocess.task_tree)
        elif task._children and task_state >= min_state:
            tasks = task.workflow.tasks
            stack.extend([tasks.get(child) for child in reversed(task._children)])
        if task_state & state:
            found.append(task)
    return found


def _back_up(leaf: Task, following: Task, depth: int) -> int:
    """The iterator's leaf bookkeeping: its depth after backing up to the next task's parent."""
    ancestor = following.parent
    current = leaf.parent
    while current is not None and current != ancestor:
        current = current.parent
        depth -= 1
    return depth


def walk_with_depth(workflow: Any, state: int) -> list[Task]:
    """`tasks_in_state` with the iterator's depth bookkeeping, for trees that may reach its limit."""
    min_state, skip_finished_subprocesses = _descent(state)
    subprocesses = workflow.top_workflow.subprocesses
    found: list[Task] = []
    stack: list[Task] = [workflow.task_tree]  # the iterator's list, reversed: its head is our top
    depth = 0
    while stack:
        task = stack.pop()
        subprocess = subprocesses.get(task.id)
        task_state = task._state
        if (
            (task._children or subprocess is not None)
            and (task_state >= min_state or subprocess is not None)
            and depth < MAX_DEPTH
        ):
            tasks = task.workflow.tasks
            stack.extend([tasks.get(child) for child in reversed(task._children)])
            if subprocess is not None and not (task_state >= _FINISHED and skip_finished_subprocesses):
                stack.append(subprocess.task_tree)
            depth += 1
        elif stack:
            depth = _back_up(task, stack[-1], depth)
        if task_state & state:
            found.append(task)
    return found


def waiting_tasks(workflow: Any) -> Iterator[Task]:
    """What ``TaskIterator(workflow.task_tree, state=WAITING)`` yields (``update_waiting_tasks``'s
    walk, without subprocesses), as lazily: each task's children are read when the walk reaches
    it, after the tasks before it were updated."""
    stack: list[Task] = [workflow.task_tree]
    depth = 0
    while stack:
        task = stack.pop()
        if task._children and task._state >= _FUTURE and depth < MAX_DEPTH:
            tasks = task.workflow.tasks
            stack.extend([tasks.get(child) for child in reversed(task._children)])
            depth += 1
        elif stack:
            depth = _back_up(task, stack[-1], depth)
        if task._state & _WAITING:
            yield task


def update_waiting(workflow: Any) -> None:
    """``Workflow.update_waiting_tasks``: no walk when no task is WAITING, else the same walk."""
    if has_waiting(workflow):
        for task in waiting_tasks(workflow):
            task.task_spec._update(task)


def _get_tasks(workflow: Any, first_task: Task | None, kwargs: dict[str, Any]) -> list[Task] | None:
    if first_task is None and len(kwargs) == 1 and "state" in kwargs:
        return tasks_in_state(workflow, kwargs["state"])
    return None


def has_waiting(workflow: Any) -> bool:
    """Whether any task of this (sub)workflow is WAITING (a superset of what its walk can reach)."""
    return any(task._state & _WAITING for task in workflow.tasks.values())


class _FastQueries:
    """`tasks_in_state` for state queries, `update_waiting` for the WAITING-task update."""

    def get_tasks(self, first_task: Task | None = None, **kwargs: Any) -> list[Task]:
        found = _get_tasks(self, first_task, kwargs)
        return found if found is not None else list(super().get_tasks(first_task, **kwargs))  # type: ignore[misc]

    def update_waiting_tasks(self) -> None:
        update_waiting(self)


class EngineSubWorkflow(_FastQueries, BpmnSubWorkflow):
    """A subprocess with the fast state queries."""


class EngineWorkflow(_FastQueries, BpmnWorkflow):
    """The top workflow with the fast state queries; its subprocesses are `EngineSubWorkflow`."""

    def create_subprocess(self, my_task: Task, spec_name: str) -> EngineSubWorkflow:
        subprocess = EngineSubWorkflow(
            self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self
        )
        self.subprocesses[my_task.id] = subprocess
        return subprocess
