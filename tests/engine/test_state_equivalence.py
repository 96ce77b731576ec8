"""The engine's task converter (`state_writer`) against SpiffWorkflow's ``to_dict``, on many states:
every step of cases through the shipped diagram, and starts of a test diagram with generated
variables. Each state equals the standard one as a dictionary, and SpiffWorkflow's own converters
(``TaskConverter.from_dict`` and the registry's typed values) load it back to the same state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DIAGRAMS
from tests.engine.shipped import NOW, shipped, variables, walk
from xinedai_workflow.channels.operations import OPERATION_CHANNELS
from xinedai_workflow.engine import (
    EngineInstance,
    ProcessDefinition,
    RuntimeContext,
    load_process_specs,
    serializer,
)


def _stock_load(state: str, definition: ProcessDefinition) -> Any:
    """The state restored by SpiffWorkflow's converters alone (no pre-restored values)."""
    standard = serializer._serializer()
    dct = json.loads(state)
    assert dct.pop(standard.VERSION_KEY) == standard.VERSION
    return standard.registry.restore(dct, spec=definition.spec, subprocess_specs=definition.subprocess_specs)


def _assert_equivalent(instance: EngineInstance) -> int:
    state = instance.dump()
    standard = serializer.standard_dump(instance.workflow)
    assert json.loads(state) == json.loads(standard)
    restored = _stock_load(state, instance.definition)
    assert json.loads(serializer.standard_dump(restored)) == json.loads(standard)
    return len(instance.workflow.tasks)


@pytest.mark.parametrize("timers_first", [False, True])
def test_every_step_of_the_shipped_diagram(timers_first: bool) -> None:
    definition, ctx = shipped()
    start = EngineInstance.start(definition, variables(), NOW, ctx)
    _assert_equivalent(start)
    steps = walk(start, definition, ctx, 40, after_step=_assert_equivalent, timers_first=timers_first)
    assert len(steps) >= 4


@pytest.fixture(scope="module")
def collect() -> tuple[ProcessDefinition, RuntimeContext]:
    files = {n: (DIAGRAMS / n).read_bytes() for n in ("t_collect.bpmn", "t_route.dmn", "t_call_form.json")}
    spec, subprocess_specs = load_process_specs("t_collect", files)
    definition = ProcessDefinition(1, "t_collect", 1, spec, subprocess_specs, files)
    return definition, RuntimeContext(helpers={}, service_operations=frozenset(OPERATION_CHANNELS))


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),  # beyond 64 bits too: the writer hands those to the standard path
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.text(max_size=6),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.timedeltas(),
    st.uuids(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=5), _values, max_size=6))
def test_starts_with_generated_variables(collect: Any, extra: dict[str, Any]) -> None:
    definition, ctx = collect
    start = {"loan_id": "L-1", "principal": Decimal("10.00"), **extra}
    instance = EngineInstance.start(definition, start, datetime(2026, 3, 2, tzinfo=UTC), ctx)
    assert _assert_equivalent(instance) > 1
