"""The case step: load a case, run one engine step, save its state, derived rows, history and
outbox rows in the caller's unit of work. Status, stage and outcome follow `domain.case_rules.RULES`."""

from ..domain.case_rules import ENDED, RULES, CaseBefore, Decision, StepReport, decide
from .outbox import outbox_key, request_id_of
from .steps import CaseRuntime, MigrationRefused

__all__ = [
    "ENDED",
    "RULES",
    "CaseBefore",
    "CaseRuntime",
    "Decision",
    "MigrationRefused",
    "StepReport",
    "decide",
    "outbox_key",
    "request_id_of",
]
