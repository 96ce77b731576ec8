"""Line 1 (the engine ceiling, in-process, no database) and line 7 (load + save of a long-lived case)."""

from __future__ import annotations

import json
import logging
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from xinedai_workflow.clock import ManualClock
from xinedai_workflow.db.models import Case, HumanTask
from xinedai_workflow.definitions.service import read_bundle_dir
from xinedai_workflow.engine import EngineInstance, ProcessDefinition, start_instance
from xinedai_workflow.engine.bundle import load_process_specs
from xinedai_workflow.engine.engine_time import engine_time
from xinedai_workflow.events.schemas import OverdueEvent
from xinedai_workflow.events.service import overdue_variables

from .compat import stock_dump, stock_logging
from .env import Backend, Bundle, median, overdue_event

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _definition(bundle: Bundle) -> ProcessDefinition:
    files = read_bundle_dir([bundle.directory])
    spec, subprocess_specs = load_process_specs(bundle.default_key, files)
    return ProcessDefinition(0, bundle.default_key, 0, spec, subprocess_specs, files)


class _StockEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's own script environment, answering service tasks as our outbox does."""

    def call_service(self, context: Any, **kwargs: Any) -> str:
        return json.dumps({"status": "queued", "request_id": f"stock:{kwargs.get('operation_name')}"})


def engine_ceiling(
    bundle: Bundle, workdir: Path, seconds: float = 2.0, runs: int = 5
) -> dict[str, float | None]:
    """Line 1, start → first wait → serialize per second on one core, no database, medians of
    `runs` runs of `seconds`, interleaved: "ours" through the runtime's engine (a supervised step
    process when step isolation is on), "in_process" EngineInstance.start + dump, and "stock":
    SpiffWorkflow alone on the same diagram — BpmnWorkflow and its TaskDataEnvironment, its
    NOTSET loggers and state change, its converters and ``json`` (spec-free, like ours)."""
    unused = Backend("none", f"sqlite:///{workdir / 'unused.db'}", workdir, bundle)
    services = unused.services()
    try:
        definition = _definition(bundle)
        ctx = services.runtime.ctx
        variables = overdue_variables(OverdueEvent.model_validate(overdue_event()))
        now = datetime.now(UTC)

        def ours() -> None:
            start_instance(definition, variables, now, ctx).dump()

        def in_process() -> None:
            EngineInstance.start(definition, variables, now, ctx).dump()

        version_helpers = ctx.version_helpers(definition) if ctx.version_helpers else {}
        stock_engine = PythonScriptEngine(environment=_StockEnvironment({**ctx.helpers, **version_helpers}))

        def stock() -> None:
            with engine_time(now), stock_logging():
                workflow = BpmnWorkflow(
                    definition.spec, definition.subprocess_specs, script_engine=stock_engine
                )
                for task in workflow.get_tasks(state=TaskState.READY):
                    task.data.update(variables)
                workflow.do_engine_steps()
                stock_dump(workflow)

        steps = {"ours": ours, "in_process": in_process, "stock": stock}
        rates: dict[str, list[float]] = {name: [] for name in steps}
        failed: set[str] = set()
        for name, step in steps.items():
            try:
                _warm(step)
            except Exception:  # e.g. a diagram the stock engine cannot run
                logging.exception("line 1 (%s) cannot run", name)
                failed.add(name)
        for _ in range(runs):
            for name, step in steps.items():
                if name not in failed:
                    rates[name].append(_run_rate(step, seconds))
        return {name: (median(values) if values else None) for name, values in rates.items()}
    finally:
        services.db.dispose()


def median_rate(step: Callable[[], None], seconds: float, runs: int) -> float:
    """Calls per second of `step`, warmed, median of `runs` timed runs."""
    _warm(step)
    return statistics.median(_run_rate(step, seconds) for _ in range(runs))


def _warm(step: Callable[[], None]) -> None:
    for _ in range(30):
        step()


def _run_rate(step: Callable[[], None], seconds: float) -> float:
    done = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        for _ in range(10):
            step()
        done += 10
    return done / (time.perf_counter() - began)


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
