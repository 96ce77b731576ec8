"""The stack walk of `task_scan` finds exactly what SpiffWorkflow's iterator finds, in its order,
so no READY task, timer, boundary event or event-gateway branch is lost or run out of turn."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

from tests.engine.shipped import NOW, shipped, variables, walk
from xinedai_workflow.engine import EngineInstance, task_scan

MASKS = [
    TaskState.READY,
    TaskState.WAITING,
    TaskState.READY | TaskState.WAITING | TaskState.STARTED,
    TaskState.COMPLETED,
    TaskState.FINISHED_MASK,
    TaskState.MAYBE | TaskState.LIKELY,
    TaskState.ANY_MASK,
]


def _same_as_iterator(instance: EngineInstance) -> None:
    workflow = instance.workflow
    for each in [workflow, *workflow.subprocesses.values()]:
        for mask in MASKS:
            stock = list(BpmnTaskIterator(each.task_tree, state=mask))
            assert task_scan.tasks_in_state(each, mask) == stock, (each, TaskState.get_name(mask))
            assert task_scan.walk_with_depth(each, mask) == stock, (each, TaskState.get_name(mask))
        # update_waiting_tasks skips its walk only when the walk would find no WAITING task
        waiting = list(TaskIterator(each.task_tree, state=TaskState.WAITING))
        assert list(task_scan.waiting_tasks(each)) == waiting, each
        if waiting:
            assert task_scan.has_waiting(each), each


@pytest.fixture(scope="module")
def engine() -> Any:
    return shipped()


def _start(engine: Any) -> EngineInstance:
    definition, ctx = engine
    return EngineInstance.start(definition, variables(), NOW, ctx)


def test_the_walk_equals_the_iterator_on_every_step_of_a_case(engine: Any) -> None:
    definition, ctx = engine
    steps = walk(_start(engine), definition, ctx, 40, after_step=_same_as_iterator)
    assert len(steps) >= 5


def test_every_timer_fires_as_with_spiffworkflows_own_scan(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Boundary timers (interrupting and not), timers behind event-based gateways and catch events
    fire on the same steps, in the same order, with the fast walk as with the stock iterator."""
    definition, ctx = engine
    runs = {}
    for way in ("fast", "stock"):
        if way == "stock":
            monkeypatch.setattr(task_scan, "_get_tasks", lambda *_args: None)  # every query the stock way
            monkeypatch.setattr(task_scan, "update_waiting", Workflow.update_waiting_tasks)  # and walk
        runs[way] = [walk(_start(engine), definition, ctx, 40, timers_first=first) for first in (False, True)]
    assert runs["fast"] == runs["stock"]
    fired = {element for steps in runs["fast"] for step in steps for element in step["fired"]}
    # an interrupting boundary timer and the timer catches behind the call and the letter
    assert {"informal_timeout", "reply_window", "retry_wait"} <= fired, fired
