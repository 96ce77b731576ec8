"""Helpers for the hard-limit tests: one-script diagrams and a supervised engine without a database."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

from xinedai_workflow.engine import (
    IsolationLimits,
    ProcessDefinition,
    RuntimeContext,
    SandboxLimits,
    StepSupervisor,
    load_process_specs,
)
from xinedai_workflow.runtime.script_helpers import SCRIPT_HELPERS

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
STEP_LIMIT = 2.0
MEMORY_MB = 512


def script_bpmn(key: str, script: str, *, timer_first: bool = False) -> bytes:
    """A process: start → (timer P1D →) script → user task (so a good run waits, a bad one errors)."""
    timer = (
        '<bpmn:intermediateCatchEvent id="wait">'
        "<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>"
        '<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="run" />'
        if timer_first
        else '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run" />'
    )
    first = "f0" if timer_first else "f1"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{key}"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>{first}</bpmn:outgoing></bpmn:startEvent>
    {timer}
    <bpmn:scriptTask id="run" name="Run"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="look" name="Look">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="look" />
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def definition_for(script: str, key: str = "t_limit") -> ProcessDefinition:
    files = {f"{key}.bpmn": script_bpmn(key, script)}
    spec, subprocess_specs = load_process_specs(key, files)
    return ProcessDefinition(0, key, 1, spec, subprocess_specs, files)


# Stand-ins for "any C call that never returns or allocates without bound": the point of the
# supervised process is that it holds against code the in-process guards do not know.
TEST_HELPERS = {**SCRIPT_HELPERS, "c_sleep": time.sleep, "c_alloc": bytes, "c_exit": os._exit}


@pytest.fixture(scope="session")
def supervisor() -> Iterator[StepSupervisor]:
    ctx = RuntimeContext(helpers=TEST_HELPERS, limits=SandboxLimits(time_limit_seconds=0.5))
    limits = IsolationLimits(step_time_limit_seconds=STEP_LIMIT, memory_limit_mb=MEMORY_MB, processes=2)
    built = StepSupervisor(ctx, limits)
    ctx.supervisor = built
    yield built
    built.close()
