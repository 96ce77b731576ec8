"""The one-pass orjson writer gives the same state as SpiffWorkflow's converters and ``json``, for
typed values too, and leaves what it cannot write exactly to them."""

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
from xinedai_workflow.engine.state_writer import NotPlain

TYPED = {
    "principal": Decimal("50000.00"),
    "tiny": Decimal("-1E-30"),
    "due": date(2026, 2, 25),
    "seen_at": datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC),
    "naive": datetime(2026, 3, 2, 9, 30),
    "grace": timedelta(days=3, seconds=5),
    "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "plan": [{"n": i, "amount": Decimal("850.00"), "due": date(2026, 3 + i, 1)} for i in range(3)],
    "pair": ("a", Decimal("1.5")),
    "tags": {"x"},
    "nested": {"deeper": {"values": [1, 2.5, None, True, "文本", 2**62]}},
}


@pytest.fixture
def instance() -> EngineInstance:
    files = {n: (DIAGRAMS / n).read_bytes() for n in ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")}
    spec, subprocess_specs = load_process_specs("t_collect", files)
    definition = ProcessDefinition(1, "t_collect", 1, spec, subprocess_specs, files)
    ctx = RuntimeContext(helpers={}, service_operations=frozenset(OPERATION_CHANNELS))
    return EngineInstance.start(
        definition, {"loan_id": "L-1", **TYPED}, datetime(2026, 3, 2, tzinfo=UTC), ctx
    )


def _both(instance: EngineInstance) -> tuple[Any, Any]:
    return json.loads(instance.dump()), json.loads(serializer.standard_dump(instance.workflow))


def test_typed_values_are_written_as_the_standard_converter_writes_them(instance: EngineInstance) -> None:
    ours, standard = _both(instance)
    assert ours == standard
    root = ours["tasks"][ours["root"]]["data"]
    assert root["ref"] == {"value": str(TYPED["ref"]), "typename": "UUID"}
    assert root["principal"] == {"value": "50000.00", "typename": "Decimal"}


def test_typed_values_round_trip(instance: EngineInstance) -> None:
    task = instance.snapshot().open_tasks[0]
    instance.complete_task(task.task_id, {"outcome": "refused", "when": date(2026, 3, 3)}, datetime.now(UTC))
    state = instance.dump()
    restored = serializer.load_workflow(state, instance.definition.spec, instance.definition.subprocess_specs)
    data = restored.last_task.data
    for key, value in TYPED.items():
        expected = list(value) if isinstance(value, tuple | set) else value
        assert data[key] == expected, key
        assert type(data[key]) is type(expected), key
    assert data["when"] == date(2026, 3, 3)
    assert serializer.dump_workflow(restored) == state


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), Decimal("NaN"), 2**70, {1: "int key"}, object()],
    ids=["nan", "inf", "decimal-nan", "big-int", "int-key", "object"],
)
def test_what_it_cannot_write_exactly_goes_the_standard_way(instance: EngineInstance, value: Any) -> None:
    instance.workflow.task_tree.data["odd"] = value
    with pytest.raises(NotPlain):
        serializer._writer().dumps(instance.workflow)
    if isinstance(value, object) and type(value) is object:
        with pytest.raises(TypeError):  # the standard encoder refuses it too
            instance.dump()
        return
    assert instance.dump() == serializer.standard_dump(instance.workflow)
