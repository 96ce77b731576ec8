"""The step round trip: a warm step process never runs a stale spec, one that died while idle is
replaced before the step (nothing ran, so the step must not fail), and the state the parent
stores is the step process's JSON text, verbatim and identical to an in-process step's."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import timedelta

from xinedai_workflow.engine import EngineInstance, StepSupervisor

from .conftest import MEMORY_MB, NOW, definition_for


def test_a_changed_definition_is_not_run_with_the_cached_spec(supervisor: StepSupervisor) -> None:
    """Same key and version number, other files: the warm process parses the new spec."""
    first = supervisor.start(definition_for("marker = 'one'"), {}, NOW)
    assert first.snapshot().variables["marker"] == "one"
    for _ in range(3):  # whichever pooled process runs it
        again = supervisor.start(definition_for("marker = 'two'"), {}, NOW)
        assert again.snapshot().variables["marker"] == "two"


def test_a_process_that_died_while_idle_is_replaced_before_the_step(supervisor: StepSupervisor) -> None:
    definition = definition_for("y = 1")
    warm = supervisor.start(definition, {}, NOW)
    assert warm.snapshot().status == "active"
    with supervisor._cond:
        idle = [child.process.pid for child in supervisor._idle]
    assert idle
    for pid in idle:  # e.g. the OOM killer, an operator: outside any step
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    kills = supervisor.kills
    after = supervisor.start(definition, {}, NOW)
    assert after.snapshot().status == "active", after.snapshot().error
    assert after.rolled_back is False and supervisor.kills == kills


def test_the_stored_state_is_the_step_process_json_verbatim(supervisor: StepSupervisor) -> None:
    definition = definition_for("amount = money('12.30')\nwhen = NOW_TEXT", key="t_round")
    variables = {"NOW_TEXT": "2026-03-02", "nested": {"list": [1, "二", None, 2.5]}}
    supervised = supervisor.start(definition, variables, NOW)
    local = EngineInstance.start(definition, variables, NOW, supervisor._child_ctx)
    state = supervised.dump()
    assert isinstance(state, str)
    stored, in_process = json.loads(state), json.loads(local.dump())
    assert stored.keys() == in_process.keys() and stored["data"] == in_process["data"]
    # loading that text again, in a step process, round-trips it (same tasks, same data)
    again = supervisor.load(definition, state)
    assert again.fire_due_timers(NOW + timedelta(minutes=1)) == []
    reloaded = json.loads(again.dump())
    assert reloaded["tasks"].keys() == stored["tasks"].keys() and reloaded["data"] == stored["data"]
    assert [t["data"] for t in reloaded["tasks"].values()] == [t["data"] for t in stored["tasks"].values()]
    assert again.snapshot().variables == supervised.snapshot().variables == local.snapshot().variables


def test_peak_memory_is_read_on_demand(supervisor: StepSupervisor) -> None:
    instance = supervisor.start(definition_for("z = 1"), {}, NOW)
    assert 0 < instance.max_rss_kb < MEMORY_MB * 1024
