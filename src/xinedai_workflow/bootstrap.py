"""Wiring: builds every service once from the settings. Imported only by `app`, `cli` and tests;
routers get their service through `api.deps.provided`, the worker gets its `WorkerParts`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from .agencies.service import AgencyService
from .auth.principal import Principal
from .auth.tokens import TokenVerifier
from .batches.operations import BatchOperations
from .batches.runner import BatchRunner
from .batches.service import BatchService
from .bureau.export import DailyFileExporter
from .bureau.service import BureauService
from .cases.service import CaseService
from .channels.base import Channel
from .channels.operations import OPERATION_CHANNELS
from .clock import Clock, SystemClock
from .complaints.service import ComplaintService
from .compliance.service import ComplianceService, build_compliance
from .db.models import Case, HumanTask
from .db.session import Database
from .db.unit_of_work import Refusal, UnitOfWork
from .definitions.registry import DefinitionRegistry
from .definitions.service import DefinitionService
from .domain.strategy import parse_split
from .domain.template_limits import render_limited
from .domain.templates import make_environment
from .engine import IsolationLimits, RuntimeContext, SandboxLimits, SpecChecker, shared_supervisor
from .engine.template_checks import template_check
from .events.service import EventService
from .history.access_log import AccessLog
from .history.anchors import Anchors, DirectorySink
from .history.reader import HistoryService
from .incidents.service import IncidentService
from .migration.service import MigrationService
from .reports.service import ReportService
from .runtime import CaseRuntime
from .runtime.script_helpers import CONTEXT_KEYS, HELPER_NAMES, SCRIPT_HELPERS, version_helpers
from .settings import Settings
from .simulation.jobs import SimulationJobs
from .simulation.schemas import SimulationRequest
from .simulation.service import SimulationService
from .studio.service import SimulationSubmitter, StudioService
from .tasks.service import ContactGuard, TaskService
from .web.parts import WebParts
from .worker.runner import Worker, WorkerParts


@dataclass
class Services:
    """The built service graph (for the app factory, the commands and tests)."""

    settings: Settings
    db: Database
    clock: Clock
    uow: UnitOfWork
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
    migration: MigrationService
    batches: BatchService
    simulations: SimulationService
    simulation_jobs: SimulationJobs
    incidents: IncidentService
    anchors: Anchors
    agencies: AgencyService
    complaints: ComplaintService
    bureau: BureauService
    studio: StudioService
    # jobs a worker runs every `housekeeping_interval_seconds` (each returns how much it did)
    housekeeping: list[Callable[[], int]] = field(default_factory=list)

    def providers(self) -> dict[type[Any], object]:
        """What `api.deps.provided` hands the routers, by type."""
        parts = (
            self.definitions,
            self.events,
            self.cases,
            self.tasks,
            self.verifier,
            self.access_log,
            self.history,
            self.reports,
            self.compliance,
            self.migration,
            self.batches,
            self.simulations,
            self.incidents,
            self.agencies,
            self.complaints,
            self.bureau,
            self.studio,
        )
        return {type(part): part for part in (*parts, self.web_parts())}

    def web_parts(self) -> WebParts:
        """What the workbench pages use."""
        return WebParts(
            settings=self.settings,
            db=self.db,
            clock=self.clock,
            registry=self.registry,
            cases=self.cases,
            tasks=self.tasks,
            history=self.history,
            compliance=self.compliance,
            reports=self.reports,
        )

    def worker_parts(self) -> WorkerParts:
        return WorkerParts(
            settings=self.settings,
            uow=self.uow,
            clock=self.clock,
            runtime=self.runtime,
            guard=self.compliance.guard,
            retention=self.compliance.retention,
            batches=BatchRunner(
                self.uow,
                self.clock,
                BatchOperations(self.runtime, self.registry, self.clock),
                chunk=self.settings.worker_batch_size,
                lease=timedelta(seconds=self.settings.worker_lease_seconds),
            ),
            background=(self.simulation_jobs,),
            housekeeping=tuple(self.housekeeping),
            anchors=self.anchors,
        )


def isolation_limits(settings: Settings) -> IsolationLimits:
    """The supervised-execution limits from the settings."""
    return IsolationLimits(
        step_time_limit_seconds=settings.step_time_limit_seconds,
        memory_limit_mb=settings.step_memory_limit_mb,
        processes=settings.step_processes,
        render_time_limit_seconds=settings.template_time_limit_seconds,
        render_max_chars=settings.template_max_chars,
    )


def completion_hooks(*hooks: ContactGuard) -> ContactGuard:
    """The tasks service's one completion hook, running each in turn until one refuses."""

    def run(
        session: Session,
        principal: Principal,
        case: Case,
        task: HumanTask,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Refusal | None:
        for hook in hooks:
            refused = hook(session, principal, case, task, dict(data), now)
            if refused is not None:
                return refused
        return None

    return run


def simulation_submitter(simulations: SimulationService) -> SimulationSubmitter:
    """The studio's way to queue a simulation of a draft (the simulator sits above the features)."""

    def submit(
        actor: str,
        params: Mapping[str, Any],
        baseline: Mapping[str, Any],
        candidate: Mapping[str, Any],
        also: Callable[[Session, dict[str, Any]], None],
    ) -> dict[str, Any]:
        request = SimulationRequest.model_validate({**params, "baseline": baseline})
        return simulations.submit(actor, request, candidate_files=candidate, also=also)

    return submit


def build_services(settings: Settings, clock: Clock | None = None, db: Database | None = None) -> Services:
    """Construct the service graph. Pass a `ManualClock` to drive time in tests or simulations."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url, pool_size=settings.database_pool_size)
    uow = UnitOfWork(db, clock)
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
    compliance = build_compliance(settings, uow, clock, registry)
    templates = template_check(CONTEXT_KEYS, make_environment)
    definitions = DefinitionService(
        uow, registry, checker, clock, asset_checks=[compliance.asset_check, templates], test_context=ctx
    )
    access_log = AccessLog(db, clock)
    anchors = Anchors(db, clock, DirectorySink(settings.anchor_dir), settings.anchor_key_file)
    agencies = AgencyService(db, clock, compliance.guard, access_log)
    complaints = ComplaintService(db, clock, runtime, registry, compliance.policies, agencies)
    exporter = DailyFileExporter(settings.bureau_export_dir, settings.bureau_export_format)
    bureau = BureauService(db, clock, compliance.policies, exporter)
    events = EventService(
        uow,
        registry,
        runtime,
        clock,
        settings.default_process_key,
        settings.message_buffer_ttl_seconds,
        max_batch_events=settings.batch_max_events,
        strategy=parse_split(settings.strategy_split) if settings.strategy_split else None,
        payment_hooks=[agencies.on_payment],
    )
    cases = CaseService(
        uow,
        registry,
        runtime,
        clock,
        on_personal_data_read=access_log.hook("case_view"),
        default_group=settings.default_candidate_group,
    )
    tasks = TaskService(
        uow,
        registry,
        runtime,
        cases,
        clock,
        access_log=access_log,
        reserved_names=HELPER_NAMES,
        contact_guard=completion_hooks(compliance.guard.check_task_completion, complaints.on_task_completion),
    )
    simulations = SimulationService(
        uow,
        clock,
        settings.default_process_key,
        settings.processes_dir / "simulation" / "default_model.yaml",
    )
    studio = StudioService(
        uow,
        clock,
        definitions,
        # instructions are diagram code: rendered in a step process when there is a supervisor
        render=ctx.supervisor.render if ctx.supervisor is not None else render_limited,
        simulate=simulation_submitter(simulations),
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        uow=uow,
        registry=registry,
        runtime=runtime,
        definitions=definitions,
        events=events,
        cases=cases,
        tasks=tasks,
        verifier=TokenVerifier(settings),
        access_log=access_log,
        history=HistoryService(uow, access_log, anchors),
        reports=ReportService(db, clock, settings.default_process_key),
        compliance=compliance,
        migration=MigrationService(uow, registry, runtime, cases, clock),
        batches=BatchService(uow, registry, runtime, clock),
        simulations=simulations,
        simulation_jobs=SimulationJobs(uow, clock, settings.processes_dir, build_services),
        incidents=IncidentService(uow, settings.default_candidate_group),
        anchors=anchors,
        agencies=agencies,
        complaints=complaints,
        bureau=bureau,
        studio=studio,
        housekeeping=[agencies.recall_expired, bureau.run],
    )


def build_worker(services: Services, name: str | None = None, channel: Channel | None = None) -> Worker:
    """A worker over the services' database, clock and runtime."""
    return Worker(services.worker_parts(), name=name, channel=channel)
