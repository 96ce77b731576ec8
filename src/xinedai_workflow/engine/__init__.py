"""The only package that imports SpiffWorkflow: parsing, validation, sandbox, serialization, runtime."""

from . import engine_time as _engine_time  # noqa: F401  (rebinds the timers' clock on import)
from . import spiff_fixes as _spiff_fixes  # noqa: F401  (parser fixes, applied on import)
from . import spiff_logging as _spiff_logging  # noqa: F401  (log extras only when logged)
from .bundle import ParsedBundle, ParsedProcess, content_sha256, load_process_specs, parse_bundle
from .instance import (
    EngineError,
    EngineInstance,
    InvalidVariables,
    OpenUserTask,
    ProcessDefinition,
    RuntimeContext,
    ServiceCall,
    Snapshot,
    TaskNotReady,
    WaitingMessage,
    WaitingTimer,
    step_report,
)
from .problems import BundleInvalid, Problem
from .sandbox import SandboxLimits
from .spec_checks import STAGES, SpecChecker
from .spiff_logging import configure_spiff_logging
from .supervisor import (
    Instance,
    IsolationLimits,
    StepSupervisor,
    fire_many,
    load_instance,
    shared_supervisor,
    start_instance,
)

__all__ = [
    "STAGES",
    "BundleInvalid",
    "EngineError",
    "EngineInstance",
    "Instance",
    "InvalidVariables",
    "IsolationLimits",
    "OpenUserTask",
    "ParsedBundle",
    "ParsedProcess",
    "Problem",
    "ProcessDefinition",
    "RuntimeContext",
    "SandboxLimits",
    "ServiceCall",
    "Snapshot",
    "SpecChecker",
    "StepSupervisor",
    "TaskNotReady",
    "WaitingMessage",
    "WaitingTimer",
    "configure_spiff_logging",
    "content_sha256",
    "fire_many",
    "load_instance",
    "load_process_specs",
    "parse_bundle",
    "shared_supervisor",
    "start_instance",
    "step_report",
]
