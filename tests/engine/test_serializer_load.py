"""The spec-free serializer's fast load (typed values restored while parsing) gives exactly what
SpiffWorkflow's own restore gives, and falls back to it for tags it does not handle."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import DIAGRAMS
from xinedai_workflow.channels.operations import OPERATION_CHANNELS
from xinedai_workflow.engine import (
    EngineInstance,
    ProcessDefinition,
    RuntimeContext,
    load_process_specs,
    serializer,
)
from xinedai_workflow.runtime.script_helpers import SCRIPT_HELPERS

VARIABLES = {
    "loan_id": "L-1",
    "amount": "1200.00",
    "principal": Decimal("50000.00"),
    "due": date(2026, 2, 25),
    "seen_at": datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    "grace": timedelta(days=3, seconds=5),
    "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "plan": [{"n": i, "amount": Decimal("850.00"), "due": date(2026, 3 + i, 1)} for i in range(3)],
    "nested": {"deeper": {"values": [1, 2.5, None, True, "text"]}},
}


@pytest.fixture
def instance() -> EngineInstance:
    files = {n: (DIAGRAMS / n).read_bytes() for n in ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")}
    spec, subprocess_specs = load_process_specs("t_collect", files)
    definition = ProcessDefinition(1, "t_collect", 1, spec, subprocess_specs, files)
    ctx = RuntimeContext(helpers=SCRIPT_HELPERS, service_operations=frozenset(OPERATION_CHANNELS))
    started = EngineInstance.start(definition, VARIABLES, datetime(2026, 3, 2, tzinfo=UTC), ctx)
    task = started.snapshot().open_tasks[0]
    started.complete_task(task.task_id, {"outcome": "refused", "when": date(2026, 3, 3)}, datetime.now(UTC))
    return started


def _standard_load(state: str, instance: EngineInstance) -> Any:
    standard = serializer._serializer()
    dct = json.loads(state)
    dct.pop(standard.VERSION_KEY)
    return standard.registry.restore(
        dct, spec=instance.definition.spec, subprocess_specs=instance.definition.subprocess_specs
    )


def _tasks(workflow: Any) -> dict[Any, tuple[Any, ...]]:
    return {
        t.id: (t.task_spec.name, t.state, t.data, t.internal_data, t.last_state_change)
        for t in workflow.get_tasks()
    }


def test_fast_load_equals_spiffworkflows_restore(instance: EngineInstance) -> None:
    state = instance.dump()
    fast = serializer.load_workflow(state, instance.definition.spec, instance.definition.subprocess_specs)
    assert _tasks(fast) == _tasks(_standard_load(state, instance))
    assert fast.last_task.data["principal"] == Decimal("50000.00")
    assert fast.last_task.data["plan"][2]["due"] == date(2026, 5, 1)
    assert serializer.dump_workflow(fast) == state


def test_an_unhandled_tag_falls_back_to_the_full_restore(
    instance: EngineInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = instance.dump()
    monkeypatch.setattr(serializer, "VALUE_TYPENAMES", frozenset({"date", "datetime", "timedelta", "UUID"}))
    fallback = serializer.load_workflow(state, instance.definition.spec, instance.definition.subprocess_specs)
    assert _tasks(fallback) == _tasks(_standard_load(state, instance))
