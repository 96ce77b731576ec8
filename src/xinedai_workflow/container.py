"""Wiring: builds every service once from the settings (the app, the CLI and tests share it)."""

from __future__ import annotations

from dataclasses import dataclass

from .auth.tokens import TokenVerifier
from .cases.runtime import CaseRuntime
from .cases.service import CaseService
from .channels.operations import OPERATION_CHANNELS
from .clock import Clock, SystemClock
from .compliance.service import ComplianceService, build_compliance
from .db.session import Database
from .definitions.registry import DefinitionRegistry
from .definitions.service import DefinitionService
from .engine import IsolationLimits, RuntimeContext, SandboxLimits, SpecChecker, shared_supervisor
from .events.service import EventService
from .history.access_log import AccessLog
from .history.anchors import Anchors, DirectorySink
from .history.reader import HistoryService
from .reports.service import ReportService
from .script_helpers import HELPER_NAMES, SCRIPT_HELPERS, version_helpers
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
    access_log: AccessLog
    history: HistoryService
    reports: ReportService
    compliance: ComplianceService
    anchors: Anchors


def isolation_limits(settings: Settings) -> IsolationLimits:
    """The supervised-execution limits from the settings."""
    return IsolationLimits(
        step_time_limit_seconds=settings.step_time_limit_seconds,
        memory_limit_mb=settings.step_memory_limit_mb,
        processes=settings.step_processes,
        render_time_limit_seconds=settings.template_time_limit_seconds,
        render_max_chars=settings.template_max_chars,
    )


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
        version_helpers=version_helpers,
    )
    if settings.step_isolation:
        ctx.supervisor = shared_supervisor(ctx, isolation_limits(settings))
    runtime = CaseRuntime(registry, ctx)
    checker = SpecChecker(HELPER_NAMES, OPERATION_CHANNELS)
    compliance = build_compliance(settings, db, clock, registry)
    definitions = DefinitionService(db, registry, checker, clock, asset_checks=[compliance.asset_check])
    events = EventService(
        db, registry, runtime, clock, settings.default_process_key, settings.message_buffer_ttl_seconds
    )
    access_log = AccessLog(db, clock)
    anchors = Anchors(db, clock, DirectorySink(settings.anchor_dir), settings.anchor_key_file)
    cases = CaseService(db, registry, runtime, clock, on_personal_data_read=access_log.hook("case_view"))
    tasks = TaskService(
        db,
        registry,
        runtime,
        cases,
        clock,
        reserved_names=HELPER_NAMES,
        access_log=access_log,
        contact_guard=compliance.guard.check_task_completion,
    )
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
        access_log=access_log,
        history=HistoryService(db, access_log, anchors),
        reports=ReportService(db, clock, settings.default_process_key),
        compliance=compliance,
        anchors=anchors,
    )
