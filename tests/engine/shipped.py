"""The shipped diagram as an in-process engine definition, and a driver that walks a case through it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import PROCESSES
from xinedai_workflow.channels.operations import OPERATION_CHANNELS
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.engine import EngineInstance, ProcessDefinition, RuntimeContext, load_process_specs
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.events.service import overdue_variables
from xinedai_workflow.runtime.script_helpers import SCRIPT_HELPERS, version_helpers

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# The overdue event the stored states (tests/engine/stored_states) were started with.
EVENT = {
    "event_id": "00000000-0000-4000-8000-000000000001",
    "loan_id": "B-STORED-1",
    "product": "xinedai",
    "borrower": {
        "id": "P-B-STORED-1",
        "name": "王小明",
        "phone": "13812345678",
        "email": "wxm@example.com",
        "address": "北京市朝阳区建国路1号",
        "timezone": "Asia/Shanghai",
    },
    "principal": "50000.00",
    "overdue_principal": "2100.00",
    "overdue_interest": "262.50",
    "annual_rate": "0.063",
    "days_past_due": 35,
    "due_date": "2026-02-25",
    "occurred_at": "2026-03-02T09:00:00+08:00",
}


def variables() -> dict[str, Any]:
    return overdue_variables(OverdueEvent.model_validate(EVENT))


def shipped(bundle: Path = PROCESSES) -> tuple[ProcessDefinition, RuntimeContext]:
    """The bundle (default: the shipped one) as version 1 of `xinedai_overdue`."""
    files = read_bundle_dir([bundle])
    spec, subprocess_specs = load_process_specs("xinedai_overdue", files)
    definition = ProcessDefinition(1, "xinedai_overdue", 1, spec, subprocess_specs, files)
    ctx = RuntimeContext(
        helpers=SCRIPT_HELPERS,
        service_operations=frozenset(OPERATION_CHANNELS),
        version_helpers=version_helpers,
    )
    return definition, ctx


def observe(instance: EngineInstance) -> dict[str, Any]:
    """What a step leaves, without task ids and wall-clock stamps (new tasks get fresh ids)."""
    snap = instance.snapshot()
    return {
        "status": snap.status,
        "stage": snap.stage,
        "error": snap.error,
        "open": sorted(t.element_id for t in snap.open_tasks),
        "timers": sorted((t.element_id, t.due_at) for t in snap.timers),
        "messages": sorted(m.element_id for m in snap.messages),
        # service-call request ids hold the (fresh) task id
        "variables": json.loads(_UUID.sub("<task id>", json.dumps(snap.variables, default=str))),
    }


def walk(
    instance: EngineInstance,
    definition: ProcessDefinition,
    ctx: RuntimeContext,
    steps: int,
    after_step: Callable[[EngineInstance], None] = lambda _i: None,
    timers_first: bool = False,
) -> list[dict[str, Any]]:
    """Complete open tasks (no answer) and fire the earliest timer (before tasks: `timers_first`),
    `steps` times, through dump and load each time; what each step left, plus the timers that fired."""
    seen = []
    clock = NOW
    for _ in range(steps):
        snap = instance.snapshot()
        if snap.status != "active":
            break
        fired: list[str] = []
        if snap.open_tasks and not (timers_first and snap.timers):
            clock += timedelta(hours=1)
            instance.complete_task(snap.open_tasks[0].task_id, {"outcome": "no_answer"}, clock)
        elif snap.timers:
            clock = max(clock, min(t.due_at for t in snap.timers))
            fired = sorted(t.element_id for t in instance.fire_due_timers(clock))
        else:
            break
        after_step(instance)
        instance = EngineInstance.load(definition, instance.dump(), ctx)
        seen.append({**observe(instance), "fired": fired})
    return seen
