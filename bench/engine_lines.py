"""Line 1 (the engine ceiling, in-process, no database) and line 7 (load + save of a long-lived case)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.engine import ProcessDefinition, start_instance
from xinedai_workflow.engine.bundle import load_process_specs
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.events.service import overdue_variables

from .env import Backend, Bundle, median, overdue_event

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _definition(bundle: Bundle) -> ProcessDefinition:
    files = read_bundle_dir([bundle.directory])
    spec, subprocess_specs = load_process_specs(bundle.default_key, files)
    return ProcessDefinition(0, bundle.default_key, 0, spec, subprocess_specs, files)


def engine_ceiling(
    bundle: Bundle, workdir: Path, seconds: float = 2.0, runs: int = 5
) -> tuple[float, float | None]:
    """Line 1: EngineInstance.start (sandboxed, to the first wait state) + dump (spec-free JSON), per
    second on one core; and, for reference, plain SpiffWorkflow with its default script engine
    and serializer (spec included). Medians of `runs` runs of `seconds` each. No database."""
    unused = Backend("none", f"sqlite:///{workdir / 'unused.db'}", workdir, bundle)
    services = unused.services()
    try:
        definition = _definition(bundle)
        ctx = services.runtime.ctx
        variables = overdue_variables(OverdueEvent.model_validate(overdue_event()))
        now = datetime.now(UTC)

        def ours() -> None:
            # through the runtime's engine: a supervised step process when step isolation is on
            start_instance(definition, variables, now, ctx).dump()

        serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        version_helpers = ctx.version_helpers(definition) if ctx.version_helpers else {}
        plain_engine = PythonScriptEngine(environment=TaskDataEnvironment({**ctx.helpers, **version_helpers}))

        def plain() -> None:
            workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=plain_engine)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(variables)
            workflow.do_engine_steps()
            serializer.serialize_json(workflow)

        try:
            plain_rate: float | None = _rate(plain, seconds, runs)
        except Exception:  # e.g. a service task before the first wait: only our engine handles those
            plain_rate = None
        return _rate(ours, seconds, runs), plain_rate
    finally:
        services.db.dispose()


def _rate(step: object, seconds: float, runs: int) -> float:
    assert callable(step)
    for _ in range(50):  # warm caches
        step()
    rates = []
    for _ in range(runs):
        done = 0
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            for _ in range(20):
                step()
            done += 20
        rates.append(done / (time.perf_counter() - began))
    return median(rates)


def long_case(backend: Backend, runs: int = 40) -> dict[str, float]:
    """Line 7: a b_long case after 20 call attempts and 60 instalments, then `runs` times in one
    write transaction each: read the case row, EngineInstance.load, snapshot + dump, and the save
    of the case row, derived rows and a history entry (the runtime's real save path)."""
    clock = ManualClock(START)
    services = backend.services(clock)
    try:
        with services.db.write() as session:
            definition = services.registry.latest(session, "b_long")
            case = services.runtime.open(
                session, definition, f"LONG-{uuid.uuid4().hex[:8]}", {}, "bench", START
            )
            case_id = case.id
        for _ in range(20):
            with services.db.write() as session:
                case = session.get(Case, case_id)
                assert case is not None
                task = session.scalars(
                    select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")
                ).one()
                services.runtime.complete_task(
                    session, case, task, {"outcome": "no_answer"}, "bench", clock.now()
                )
        for _ in range(60):
            clock.advance(timedelta(days=31))
            with services.db.write() as session:
                case = session.get(Case, case_id)
                assert case is not None
                assert services.runtime.fire_timers(session, case, clock.now(), "bench") == 1
        with services.db.read() as session:
            case = session.get(Case, case_id)
            assert case is not None and case.stage == "review", (
                case and case.status,
                case and case.error_message,
            )
            state_kb = len(case.state) / 1024
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            with services.db.write() as session:
                case = session.get(Case, case_id)
                assert case is not None
                services.runtime.set_variables(session, case, "bench", clock.now(), lambda _instance: None)
            timings.append((time.perf_counter() - began) * 1000)
        return {"ms": median(timings[5:]), "state_kb": state_kb}
    finally:
        services.db.dispose()
