"""Data of the contact policy: the policy (built from the policy file), attempts, past contacts,
borrower state and decisions. The rules themselves live in `contact_rules`; the entry point is
`contact_policy.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from xinedai_workflow.domain.local_time import is_known_timezone, to_utc

__all__ = [
    "CALL_CHANNELS",
    "DEFAULT_TIMEZONE",
    "PAUSE_RULES",
    "STATE_RULES",
    "TIME_RULES",
    "Action",
    "BorrowerContactState",
    "Channel",
    "ContactAttempt",
    "ContactDecision",
    "ContactKind",
    "ContactPolicy",
    "ContactRecord",
    "Purpose",
    "Rule",
    "Target",
    "parse_clock_time",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"


class Channel(StrEnum):
    """How a contact is made."""

    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    CALL = "call"
    AUTOMATED_CALL = "automated_call"
    VISIT = "visit"


class ContactKind(StrEnum):
    """Who makes the contact: the outbox (automated) or a collector who records it."""

    OUTBOUND_AUTOMATED = "outbound_automated"
    HUMAN_RECORDED = "human_recorded"


class Target(StrEnum):
    """Who is contacted."""

    BORROWER = "borrower"
    EMERGENCY_CONTACT = "emergency_contact"
    GUARANTOR = "guarantor"


class Purpose(StrEnum):
    """Collection contact, or a service message (plan confirmation, instalment reminder, receipt)."""

    COLLECTION = "collection"
    SERVICE = "service"


class Action(StrEnum):
    """What becomes of an attempt."""

    ALLOW = "allow"
    DEFER = "defer"
    DROP = "drop"
    REFUSE = "refuse"


class Rule(StrEnum):
    """Identifier of the rule that blocked an attempt."""

    OPTED_OUT = "opted_out"
    THIRD_PARTY = "third_party"
    DISPUTE_OPEN = "dispute_open"
    PLAN_KEPT = "plan_kept"
    QUIET_HOURS = "quiet_hours"
    DAILY_CALL_CAP = "daily_call_cap"
    DAILY_CALL_ATTEMPT_CAP = "daily_call_attempt_cap"
    DAILY_CONTACT_CAP = "daily_contact_cap"
    ROLLING_ATTEMPTS = "rolling_attempts"
    POST_CONVERSATION_QUIET = "post_conversation_quiet"
    CASE_CLOSED = "case_closed"  # a collection message still queued when its case ended
    CONTACT_PAUSED = "contact_paused"  # an operator paused collection contact for the loan
    UNANSWERED_ATTEMPTS_PER_NUMBER = "unanswered_attempts_per_number"
    COMPLAINT_OPEN = "complaint_open"
    AGENCY_NOT_ALLOWED = "agency_not_allowed"  # an agency's contract does not cover the contact


CALL_CHANNELS: frozenset[Channel] = frozenset({Channel.CALL, Channel.AUTOMATED_CALL})
# Rules that a later moment can satisfy (an automated message may be deferred); the others
# depend on the borrower's state, so a blocked automated message is dropped.
TIME_RULES: tuple[Rule, ...] = (
    Rule.QUIET_HOURS,
    Rule.DAILY_CALL_CAP,
    Rule.DAILY_CALL_ATTEMPT_CAP,
    Rule.DAILY_CONTACT_CAP,
    Rule.ROLLING_ATTEMPTS,
    Rule.POST_CONVERSATION_QUIET,
    Rule.UNANSWERED_ATTEMPTS_PER_NUMBER,
)
STATE_RULES: tuple[Rule, ...] = (
    Rule.OPTED_OUT,
    Rule.THIRD_PARTY,
    Rule.DISPUTE_OPEN,
    Rule.PLAN_KEPT,
    Rule.COMPLAINT_OPEN,
)
_AUTOMATED_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.AUTOMATED_CALL})
PAUSE_RULES = frozenset({Rule.PLAN_KEPT, Rule.DISPUTE_OPEN, Rule.COMPLAINT_OPEN})
# Regulation F's numbers (7 attempts in 7 days; 7 days after a conversation), used when a rule
# is switched on without its own number.
_REG_F_SEVEN = 7


def parse_clock_time(value: str | time) -> time:
    """'HH:MM' (24 h) as a `time`; ValueError otherwise."""
    if isinstance(value, time):
        return value
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{value!r} is not a time of day written HH:MM")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day written HH:MM")
    return time(hour, minute)


def _default_actions() -> Mapping[Rule, Action]:
    return MappingProxyType(dict.fromkeys(TIME_RULES, Action.DEFER))


@dataclass(frozen=True)
class ContactPolicy:
    """Every limit on contact, as data (see processes/contact_policy.yaml for the meaning).

    `None` switches an optional limit off. `actions` says, per time rule, whether a blocked
    automated message is deferred to the next allowed moment or dropped; a blocked human
    contact is always refused.
    """

    policy_id: str = "xinedai-contact-policy"
    policy_version: str = "builtin"
    default_timezone: str = DEFAULT_TIMEZONE
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    quiet_exempt_channels: frozenset[Channel] = frozenset()
    max_connected_calls_per_day: int = 3
    max_call_attempts_per_day: int | None = None
    max_contacts_per_day: int | None = 6
    # CBA consumer-loan collection guideline (trial, 2026-01-30): at most 6 unanswered call
    # attempts a day to the same number.
    max_unanswered_attempts_per_number: int | None = 6
    max_attempts_in_window: int | None = None
    attempts_window_days: int = 7
    attempts_channels: frozenset[Channel] = CALL_CHANNELS
    quiet_days_after_conversation: int | None = None
    post_conversation_channels: frozenset[Channel] = CALL_CHANNELS
    pause_while_plan_kept: bool = True
    pause_while_dispute_open: bool = True
    pause_while_complaint_open: bool = True
    service_exempt_from: frozenset[Rule] = frozenset({Rule.PLAN_KEPT})
    emergency_contact_only_when_unreachable: bool = True
    emergency_contact_channels: frozenset[Channel] = frozenset({Channel.CALL, Channel.SMS})
    guarantor_contact_allowed: bool = True
    actions: Mapping[Rule, Action] = field(default_factory=_default_actions)
    defer_limit_hours: int = 72

    def __post_init__(self) -> None:
        object.__setattr__(self, "quiet_start", parse_clock_time(self.quiet_start))
        object.__setattr__(self, "quiet_end", parse_clock_time(self.quiet_end))
        object.__setattr__(self, "actions", MappingProxyType(dict(self.actions)))
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))

    def action_for(self, rule: Rule) -> Action:
        """What happens to an automated message blocked by time rule `rule`."""
        return self.actions.get(rule, Action.DEFER)

    def problems(self) -> list[tuple[str, str]]:
        """Nonsense in this policy as (path in the policy file, message); empty when sound."""
        found: list[tuple[str, str]] = []
        if not is_known_timezone(self.default_timezone):
            found.append(("contact.default_timezone", f"unknown time zone {self.default_timezone!r}"))
        if self.quiet_start == self.quiet_end:
            found.append(("contact.quiet_hours", "quiet hours start and end at the same time"))
        counts = {
            "contact.daily_caps.max_connected_calls": self.max_connected_calls_per_day,
            "contact.daily_caps.max_call_attempts": self.max_call_attempts_per_day,
            "contact.daily_caps.max_contacts": self.max_contacts_per_day,
            "contact.daily_caps.max_unanswered_attempts_per_number": self.max_unanswered_attempts_per_number,
            "contact.rolling_attempts.max_attempts": self.max_attempts_in_window,
        }
        for path, value in counts.items():
            if value is not None and value < 0:
                found.append((path, f"must be 0 or more, not {value}"))
        positive = {
            "contact.rolling_attempts.window_days": self.attempts_window_days,
            "contact.post_conversation_quiet.days": self.quiet_days_after_conversation,
            "contact.defer_limit_hours": self.defer_limit_hours,
        }
        for path, value in positive.items():
            if value is not None and value < 1:
                found.append((path, f"must be 1 or more, not {value}"))
        for rule, action in self.actions.items():
            if rule not in TIME_RULES:
                found.append((f"contact.actions.{rule}", "only time rules have an action"))
            elif action not in (Action.DEFER, Action.DROP):
                found.append((f"contact.actions.{rule}", f"action must be defer or drop, not {action!r}"))
        for rule in self.service_exempt_from:
            if rule not in PAUSE_RULES:
                found.append(("contact.pauses.service_messages_exempt_from", f"{rule} is not a pause"))
        return found

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, policy_id: str | None = None, policy_version: str | None = None
    ) -> ContactPolicy:
        """Build from the `contact:` section of the policy file; missing keys take the defaults.

        Raises ValueError (or KeyError for an unknown key) on anything it cannot use.
        """
        base = cls()
        _known(data, "contact", _CONTACT_KEYS)
        quiet = _section(data, "quiet_hours", ("start", "end", "exempt_channels"))
        caps = _section(
            data,
            "daily_caps",
            (
                "max_connected_calls",
                "max_call_attempts",
                "max_contacts",
                "max_unanswered_attempts_per_number",
            ),
        )
        rolling = _section(data, "rolling_attempts", ("enabled", "max_attempts", "window_days", "channels"))
        post = _section(data, "post_conversation_quiet", ("enabled", "days", "channels"))
        pauses = _section(
            data,
            "pauses",
            ("while_plan_kept", "while_dispute_open", "while_complaint_open", "service_messages_exempt_from"),
        )
        third = _section(
            data,
            "third_party",
            (
                "emergency_contact_only_when_unreachable",
                "emergency_contact_channels",
                "guarantor_contact_allowed",
            ),
        )
        actions = dict(base.actions)
        for rule, action in dict(data.get("actions") or {}).items():
            actions[Rule(rule)] = Action(action)
        rolling_on = bool(rolling.get("enabled", False))
        post_on = bool(post.get("enabled", False))
        return cls(
            policy_id=policy_id or base.policy_id,
            policy_version=policy_version or base.policy_version,
            default_timezone=str(data.get("default_timezone", base.default_timezone)),
            quiet_start=parse_clock_time(quiet.get("start", base.quiet_start)),
            quiet_end=parse_clock_time(quiet.get("end", base.quiet_end)),
            quiet_exempt_channels=_channels(quiet.get("exempt_channels"), base.quiet_exempt_channels),
            max_connected_calls_per_day=int(
                caps.get("max_connected_calls", base.max_connected_calls_per_day)
            ),
            max_call_attempts_per_day=_opt_int(caps, "max_call_attempts", base.max_call_attempts_per_day),
            max_contacts_per_day=_opt_int(caps, "max_contacts", base.max_contacts_per_day),
            max_unanswered_attempts_per_number=_opt_int(
                caps, "max_unanswered_attempts_per_number", base.max_unanswered_attempts_per_number
            ),
            max_attempts_in_window=int(rolling.get("max_attempts", _REG_F_SEVEN)) if rolling_on else None,
            attempts_window_days=int(rolling.get("window_days", base.attempts_window_days)),
            attempts_channels=_channels(rolling.get("channels"), base.attempts_channels),
            quiet_days_after_conversation=int(post.get("days", _REG_F_SEVEN)) if post_on else None,
            post_conversation_channels=_channels(post.get("channels"), base.post_conversation_channels),
            pause_while_plan_kept=bool(pauses.get("while_plan_kept", base.pause_while_plan_kept)),
            pause_while_dispute_open=bool(pauses.get("while_dispute_open", base.pause_while_dispute_open)),
            pause_while_complaint_open=bool(
                pauses.get("while_complaint_open", base.pause_while_complaint_open)
            ),
            service_exempt_from=frozenset(
                Rule(r) for r in pauses.get("service_messages_exempt_from", base.service_exempt_from)
            ),
            emergency_contact_only_when_unreachable=bool(
                third.get(
                    "emergency_contact_only_when_unreachable", base.emergency_contact_only_when_unreachable
                )
            ),
            emergency_contact_channels=_channels(
                third.get("emergency_contact_channels"), base.emergency_contact_channels
            ),
            guarantor_contact_allowed=bool(
                third.get("guarantor_contact_allowed", base.guarantor_contact_allowed)
            ),
            actions=MappingProxyType(actions),
            defer_limit_hours=int(data.get("defer_limit_hours", base.defer_limit_hours)),
        )


_CONTACT_KEYS = (
    "default_timezone",
    "quiet_hours",
    "daily_caps",
    "rolling_attempts",
    "post_conversation_quiet",
    "pauses",
    "third_party",
    "actions",
    "defer_limit_hours",
)


def _known(data: Mapping[str, Any], where: str, keys: Iterable[str]) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise KeyError(f"{where}: unknown setting(s) {', '.join(unknown)}")


def _section(data: Mapping[str, Any], name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    section: Mapping[str, Any] = data.get(name) or {}
    _known(section, f"contact.{name}", keys)
    return section


def _opt_int(section: Mapping[str, Any], key: str, default: int | None) -> int | None:
    if key not in section:
        return default
    value = section[key]
    return None if value is None else int(value)


def _channels(values: Iterable[str] | None, default: frozenset[Channel]) -> frozenset[Channel]:
    return default if values is None else frozenset(Channel(v) for v in values)


@dataclass(frozen=True)
class ContactAttempt:
    """One contact someone wants to make now (`at`): an outbox message or a collector's contact."""

    channel: Channel
    kind: ContactKind
    at: datetime
    target: Target = Target.BORROWER
    discloses_debt: bool = False
    purpose: Purpose = Purpose.COLLECTION
    target_id: str | None = None
    # the dialled line (an opaque key, e.g. a hash of the number); None: the target's line
    number: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "kind", ContactKind(self.kind))
        object.__setattr__(self, "target", Target(self.target))
        object.__setattr__(self, "purpose", Purpose(self.purpose))
        object.__setattr__(self, "at", to_utc(self.at))
        if self.kind is ContactKind.OUTBOUND_AUTOMATED and self.channel not in _AUTOMATED_CHANNELS:
            raise ValueError(f"channel {self.channel} cannot be automated (use automated_call for robocalls)")
        if self.kind is ContactKind.HUMAN_RECORDED and self.channel is Channel.AUTOMATED_CALL:
            raise ValueError("an automated call is not a human contact")


@dataclass(frozen=True)
class ContactRecord:
    """A contact that took place (or is under way), from any user, agency or the outbox.

    `connected`: the call was answered / the message went out / the visit met someone;
    `None` while the outcome is not known yet, counted as connected so that concurrent
    attempts cannot overrun a cap. `conversation`: the borrower was spoken with about the debt.
    `outcome` "refused" on an emergency-contact record means that person asked not to be
    contacted again.
    """

    channel: Channel
    at: datetime
    connected: bool | None = True
    conversation: bool = False
    target: Target = Target.BORROWER
    target_id: str | None = None
    outcome: str | None = None
    number: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "target", Target(self.target))
        object.__setattr__(self, "at", to_utc(self.at))


@dataclass(frozen=True)
class BorrowerContactState:
    """What the policy needs to know about the borrower at the time of the attempt.

    `timezone` None means the policy's default zone. `opt_outs` holds channels, `"all"` for a
    request to stop all contact; an opt-out of `call` also covers automated calls.
    `unreachable`, `deceased`, `incapacitated`: recorded on the case; only then may an emergency
    contact be approached (GB/T 45251-2025). `refused_emergency_contacts`: the ids of emergency
    contacts who refused further contact, recorded once and honoured for ever.
    `complaint_open`: a complaint about the collection is being handled.
    """

    timezone: str | None = None
    opt_outs: frozenset[str] = frozenset()
    plan_kept: bool = False
    dispute_open: bool = False
    unreachable: bool = False
    deceased: bool = False
    incapacitated: bool = False
    refused_emergency_contacts: frozenset[str] = frozenset()
    complaint_open: bool = False

    @property
    def emergency_contact_warranted(self) -> bool:
        """The borrower cannot be reached, has died or lacks capacity."""
        return self.unreachable or self.deceased or self.incapacitated

    def __post_init__(self) -> None:
        if self.timezone is not None and not is_known_timezone(self.timezone):
            raise ValueError(f"unknown time zone {self.timezone!r}")
        object.__setattr__(self, "opt_outs", frozenset(str(o) for o in self.opt_outs))
        object.__setattr__(
            self, "refused_emergency_contacts", frozenset(str(o) for o in self.refused_emergency_contacts)
        )


@dataclass(frozen=True)
class ContactDecision:
    """The verdict on one attempt; write `as_record()` to the case history either way."""

    allowed: bool
    action: Action
    rule: Rule | None
    reason: str
    reason_zh: str
    next_allowed_at: datetime | None
    policy_id: str
    policy_version: str
    blocked_by: tuple[Rule, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """JSON-ready form for the case history."""
        return {
            "allowed": self.allowed,
            "action": str(self.action),
            "rule": None if self.rule is None else str(self.rule),
            "blocked_by": [str(r) for r in self.blocked_by],
            "reason": self.reason,
            "reason_zh": self.reason_zh,
            "next_allowed_at": None if self.next_allowed_at is None else self.next_allowed_at.isoformat(),
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
        }
