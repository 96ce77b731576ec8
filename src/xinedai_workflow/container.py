"""Wiring: builds every service once from the settings (the app, the CLI and tests share it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .agencies.service import AgencyService
from .auth.principal import Principal
from .auth.tokens import TokenVerifier
from .bureau.export import DailyFileExporter
from .bureau.service import BureauService
from .cases.runtime import CaseRuntime
from .cases.service import CaseService
from .channels.operations import OPERATION_CHANNELS
from .clock import Clock, SystemClock
from .complaints.service import ComplaintService
from .compliance.service import ComplianceService, build_compliance
from .db.models import Case, HumanTask
from .db.session import Database
from .definitions.registry import DefinitionRegistry
from .definitions.service import DefinitionService
from .engine import RuntimeContext, SandboxLimits, SpecChecker
from .errors import ServiceError
from .events.service import EventService
from .history.access_log import AccessLog
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
    agencies: AgencyService
    complaints: ComplaintService
    bureau: BureauService
    # jobs a worker runs every `housekeeping_interval_seconds` (each returns how much it did)
    housekeeping: list[Callable[[], int]] = field(default_factory=list)


CompletionHook = Callable[
    [Session, Principal, Case, HumanTask, Mapping[str, Any], datetime], ServiceError | None
]


def completion_hooks(*hooks: CompletionHook) -> CompletionHook:
    """The tasks service's one completion hook, running each in turn until one refuses."""

    def run(
        session: Session,
        principal: Principal,
        case: Case,
        task: HumanTask,
        data: Mapping[str, Any],
        now: datetime,
    ) -> ServiceError | None:
        for hook in hooks:
            refused = hook(session, principal, case, task, data, now)
            if refused is not None:
                return refused
        return None

    return run


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
    runtime = CaseRuntime(registry, ctx)
    checker = SpecChecker(HELPER_NAMES, OPERATION_CHANNELS)
    compliance = build_compliance(settings, db, clock, registry)
    definitions = DefinitionService(db, registry, checker, clock, asset_checks=[compliance.asset_check])
    access_log = AccessLog(db, clock)
    agencies = AgencyService(db, clock, compliance.guard, access_log)
    complaints = ComplaintService(db, clock, runtime, registry, compliance.policies, agencies)
    exporter = DailyFileExporter(settings.bureau_export_dir, settings.bureau_export_format)
    bureau = BureauService(db, clock, compliance.policies, exporter)
    events = EventService(
        db,
        registry,
        runtime,
        clock,
        settings.default_process_key,
        settings.message_buffer_ttl_seconds,
        payment_hooks=[agencies.on_payment],
    )
    cases = CaseService(db, registry, runtime, clock, on_personal_data_read=access_log.hook("case_view"))
    tasks = TaskService(
        db,
        registry,
        runtime,
        cases,
        clock,
        reserved_names=HELPER_NAMES,
        access_log=access_log,
        contact_guard=completion_hooks(compliance.guard.check_task_completion, complaints.on_task_completion),
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
        history=HistoryService(db, access_log),
        reports=ReportService(db, clock, settings.default_process_key),
        compliance=compliance,
        agencies=agencies,
        complaints=complaints,
        bureau=bureau,
        housekeeping=[agencies.recall_expired, bureau.run],
    )
