"""States written before the orjson writer and the engine's workflow classes (by main at eafda99,
SpiffWorkflow's converters and ``json``) still load and continue exactly as they did then.

tests/engine/stored_states: the shipped diagram started with `shipped.EVENT` at `shipped.NOW`
(started.json), then its call task completed with ``no_answer`` an hour later (after_task.json),
and, from the start, its earliest timer fired (after_timer.json).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.engine.shipped import NOW, observe, shipped, walk
from xinedai_workflow.engine import EngineInstance, serializer
from xinedai_workflow.engine.task_scan import EngineWorkflow

STORED = Path(__file__).resolve().parent / "stored_states"
# the bundle of main at eafda99, which the states were made with: a running case keeps its version
BUNDLE = STORED / "bundle"


@pytest.fixture(scope="module")
def engine() -> Any:
    return shipped(BUNDLE)


def _load(engine: Any, name: str) -> EngineInstance:
    definition, ctx = engine
    return EngineInstance.load(definition, (STORED / name).read_text(), ctx)


@pytest.mark.parametrize("name", ["started.json", "after_task.json", "after_timer.json"])
def test_a_stored_state_loads_and_writes_back_the_same(engine: Any, name: str) -> None:
    stored = (STORED / name).read_text()
    instance = _load(engine, name)
    assert isinstance(instance.workflow, EngineWorkflow)
    assert json.loads(instance.dump()) == json.loads(stored)


def test_completing_the_stored_task_continues_as_before(engine: Any) -> None:
    instance = _load(engine, "started.json")
    task = instance.snapshot().open_tasks[0]
    instance.complete_task(task.task_id, {"outcome": "no_answer"}, NOW + timedelta(hours=1))
    assert observe(instance) == observe(_load(engine, "after_task.json"))


def test_firing_the_stored_timer_continues_as_before(engine: Any) -> None:
    instance = _load(engine, "started.json")
    due = min(t.due_at for t in instance.snapshot().timers)
    assert instance.fire_due_timers(due + timedelta(seconds=1))
    assert observe(instance) == observe(_load(engine, "after_timer.json"))


def test_a_stored_case_walks_on_through_both_writers(engine: Any) -> None:
    """Thirty steps from the stored start: the states the writer makes equal the standard ones."""
    definition, ctx = engine

    def same_state(instance: EngineInstance) -> None:
        assert json.loads(instance.dump()) == json.loads(serializer.standard_dump(instance.workflow))

    assert len(walk(_load(engine, "started.json"), definition, ctx, 30, after_step=same_state)) >= 5
