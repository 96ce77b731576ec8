"""Wiring: builds every service once from the settings (the app, the CLI and tests share it)."""

from __future__ import annotations

from dataclasses import dataclass

from .auth.tokens import TokenVerifier
from .cases.runtime import CaseRuntime
from .cases.service import CaseService
from .channels.operations import OPERATION_CHANNELS
from .clock import Clock, SystemClock
from .db.session import Database
from .definitions.registry import DefinitionRegistry
from .definitions.service import DefinitionService
from .engine import RuntimeContext, SandboxLimits, SpecChecker
from .events.service import EventService
from .script_helpers import SCRIPT_HELPERS
from .settings import Settings
from .tasks.service import TaskService


@dataclass
class Services:
    """Everything a request handler or worker needs."""

    settings: Settings
    db: Database
    clock: Clock
    registry: DefinitionRegistry
    runtime: CaseRuntime
    definitions: DefinitionService
    events: EventService
    cases: CaseService
    tasks: TaskService
    verifier: TokenVerifier


def build_services(settings: Settings, clock: Clock | None = None, db: Database | None = None) -> Services:
    """Construct the service graph. Pass a `ManualClock` to drive time in tests or simulations."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url, pool_size=settings.database_pool_size)
    registry = DefinitionRegistry()
    ctx = RuntimeContext(
        helpers=SCRIPT_HELPERS,
        limits=SandboxLimits(time_limit_seconds=settings.script_time_limit_seconds),
        service_operations=frozenset(OPERATION_CHANNELS),
        default_group=settings.default_candidate_group,
    )
    runtime = CaseRuntime(registry, ctx)
    checker = SpecChecker(SCRIPT_HELPERS, OPERATION_CHANNELS)
    definitions = DefinitionService(db, registry, checker, clock)
    events = EventService(
        db, registry, runtime, clock, settings.default_process_key, settings.message_buffer_ttl_seconds
    )
    cases = CaseService(db, registry, runtime, clock)
    tasks = TaskService(db, registry, runtime, cases, clock, reserved_names=SCRIPT_HELPERS)
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        registry=registry,
        runtime=runtime,
        definitions=definitions,
        events=events,
        cases=cases,
        tasks=tasks,
        verifier=TokenVerifier(settings),
    )
