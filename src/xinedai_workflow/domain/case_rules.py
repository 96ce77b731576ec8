"""How one engine step moves a case: status, stage, outcome and error, decided by small named rules.

Pure code (no database, no SpiffWorkflow): `decide` takes the case as it was and what the engine
reports after the step, and runs every rule whose (from, to) status pattern matches, in order.
Each rule changes the `Decision` and may add history entries. `RULES` is the whole list; a
reader can see every way a case moves here, and test each rule on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ENDED = ("completed", "cancelled")
# stages after the loan's collection ended (cured, settled, written off): such a case no longer
# counts as the loan's collecting case, so a new overdue event opens a new case (a new episode)
COLLECTION_OVER = ("review", "closed")
STATUSES = ("active", "completed", "cancelled", "error")
OUTCOME_MAX = 64  # the column's width


@dataclass(frozen=True)
class CaseBefore:
    """The case's bookkeeping before the step."""

    status: str
    stage: str | None
    outcome: str | None
    error_message: str | None = None
    error_element_id: str | None = None


@dataclass(frozen=True)
class StepReport:
    """What the engine reports after the step (see `engine.Snapshot`)."""

    status: str  # active | completed | error, as the engine sees it
    stage: str | None  # the innermost active stage mark, None while no marked element is active
    explicit_outcome: str | None = None  # the diagram's `case_outcome` variable, when a string
    last_element_id: str | None = None
    error_message: str | None = None
    error_element_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_message is not None


@dataclass(frozen=True)
class HistoryEvent:
    """A history entry a rule asks for (written by the system actor)."""

    action: str
    element_id: str | None
    data: dict[str, Any]


@dataclass
class Decision:
    """The case's bookkeeping after the step, as the rules decided it."""

    status: str
    stage: str | None
    outcome: str | None
    error_message: str | None
    error_element_id: str | None
    ended: bool = False  # the case ended with this step: `ended_at` set
    collecting: bool = True  # False once collection is over: the loan's one-collecting-case slot released
    events: list[HistoryEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Transition:
    """One step: the case before, the engine's report, and the status it goes to."""

    before: CaseBefore
    step: StepReport
    to: str


@dataclass(frozen=True)
class Rule:
    """A named rule that applies when the step goes from a status in `from_` to one in `to`."""

    name: str
    from_: tuple[str, ...]
    to: tuple[str, ...]
    apply: Callable[[Transition, Decision], None]

    def applies(self, transition: Transition) -> bool:
        return transition.before.status in self.from_ and transition.to in self.to


def _cut(outcome: str) -> str:
    return outcome[:OUTCOME_MAX]


def keep_last_stage(t: Transition, d: Decision) -> None:
    """The stage is the mark of the innermost active marked element, else the last one seen."""
    if t.step.stage:
        d.stage = t.step.stage


def close_ended_case(t: Transition, d: Decision) -> None:
    """An ended case is `closed` (so past collection, see `end_collection`) and gets an outcome:
    the diagram's `case_outcome`, else `cancelled`, else the id of the element that ended it."""
    d.stage = "closed"
    d.ended = True
    if t.step.explicit_outcome:
        d.outcome = _cut(t.step.explicit_outcome)
    elif t.to == "cancelled":
        d.outcome = "cancelled"
    else:
        d.outcome = _cut(t.step.last_element_id or "completed")


def end_collection(t: Transition, d: Decision) -> None:
    """A case whose stage is past collection (`review`, `closed`) is no longer the loan's collecting
    case: it releases the loan's slot, and a new overdue event for the loan opens a new case. The
    release is for good: a case never takes the slot back (another episode may hold it by then)."""
    if d.stage in COLLECTION_OVER:
        d.collecting = False


def follow_running_outcome(t: Transition, d: Decision) -> None:
    """While a case runs, its outcome follows the diagram's `case_outcome` variable."""
    if t.step.explicit_outcome is not None:
        d.outcome = _cut(t.step.explicit_outcome)


def record_error(t: Transition, d: Decision) -> None:
    """A failed step records the engine's message and element; a recovered case forgets them."""
    if t.step.failed:
        d.error_message, d.error_element_id = t.step.error_message, t.step.error_element_id
    elif t.to != "error":
        d.error_message = d.error_element_id = None


def announce_stage(t: Transition, d: Decision) -> None:
    """Entering another stage is a history entry."""
    if d.stage != t.before.stage and d.stage is not None:
        d.events.append(HistoryEvent("stage_entered", None, {"from": t.before.stage, "to": d.stage}))


def announce_status(t: Transition, d: Decision) -> None:
    """A change of status is a history entry (`case_completed`, `case_error`, ...); so is every
    new failure of a case already in error."""
    if t.to == t.before.status and not (t.step.failed and t.to == "error"):
        return
    data: dict[str, Any] = {"from": t.before.status, "to": t.to, "outcome": d.outcome}
    if t.step.failed:
        data["error"] = {"message": t.step.error_message, "element_id": t.step.error_element_id}
    d.events.append(HistoryEvent(f"case_{t.to}", d.error_element_id, data))


RULES: tuple[Rule, ...] = (
    Rule("keep_last_stage", STATUSES, STATUSES, keep_last_stage),
    Rule("close_ended_case", STATUSES, ENDED, close_ended_case),
    Rule("end_collection", STATUSES, STATUSES, end_collection),
    Rule("follow_running_outcome", STATUSES, ("active", "error"), follow_running_outcome),
    Rule("record_error", STATUSES, STATUSES, record_error),
    Rule("announce_stage", STATUSES, STATUSES, announce_stage),
    Rule("announce_status", STATUSES, STATUSES, announce_status),
)


def decide(before: CaseBefore, step: StepReport, forced_status: str | None = None) -> Decision:
    """Run the rules for one step. `forced_status` overrides the engine's (a cancel)."""
    transition = Transition(before, step, forced_status or step.status)
    decision = Decision(
        status=transition.to,
        stage=before.stage,
        outcome=before.outcome,
        error_message=before.error_message,
        error_element_id=before.error_element_id,
    )
    for rule in RULES:
        if rule.applies(transition):
            rule.apply(transition, decision)
    return decision
