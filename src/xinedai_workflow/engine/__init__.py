"""The only package that imports SpiffWorkflow: parsing, validation, sandbox, serialization, runtime."""

from . import engine_time as _engine_time  # noqa: F401  (rebinds the timers' clock on import)
from . import spiff_fixes as _spiff_fixes  # noqa: F401  (parser fixes, applied on import)
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

__all__ = [
    "STAGES",
    "BundleInvalid",
    "EngineError",
    "EngineInstance",
    "InvalidVariables",
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
    "TaskNotReady",
    "WaitingMessage",
    "WaitingTimer",
    "content_sha256",
    "load_process_specs",
    "parse_bundle",
    "step_report",
]
