"""Contact policy: the guardrail every outbound message and every recorded human contact passes.

`evaluate` is pure: give it the policy in force, the attempt, the borrower's contact history
(all channels, users and agencies; every contact that took place or is under way) and the
borrower's state, and it says allow, defer (with the earliest moment at which every rule
allows), drop or refuse, with the rule and a reason to write to the case history.
The caller must evaluate and record contacts of one borrower one at a time (row lock), and
add every contact that takes place to the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from xinedai_workflow.domain.contact_model import (
    CALL_CHANNELS,
    DEFAULT_TIMEZONE,
    STATE_RULES,
    TIME_RULES,
    Action,
    BorrowerContactState,
    Channel,
    ContactAttempt,
    ContactDecision,
    ContactKind,
    ContactPolicy,
    ContactRecord,
    Purpose,
    Rule,
    Target,
    parse_clock_time,
)
from xinedai_workflow.domain.contact_rules import Block, earliest_allowed, state_blocks, time_rules
from xinedai_workflow.domain.local_time import LocalClock, to_utc, zone

__all__ = [
    "CALL_CHANNELS",
    "DEFAULT_TIMEZONE",
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
    "evaluate",
    "parse_clock_time",
]

# Beyond the longest window a rule looks at, plus slack for quiet hours and DST.
_SEARCH_SLACK = timedelta(days=3)


def evaluate(
    policy: ContactPolicy,
    attempt: ContactAttempt,
    history: Sequence[ContactRecord],
    borrower: BorrowerContactState,
) -> ContactDecision:
    """Decide whether `attempt` may be made at `attempt.at`.

    Outbound automated messages blocked by a time rule are deferred to `next_allowed_at`
    (the earliest moment every rule allows, in UTC) or dropped, as the policy's `actions`
    say; they are dropped when that moment is more than `defer_limit_hours` away or when a
    state rule (opt-out, third party, dispute, plan) blocks them. Human contacts that are
    blocked are refused; `next_allowed_at` then tells the collector when to try again.
    """
    at = to_utc(attempt.at)
    clock_zone = zone(borrower.timezone or policy.default_timezone)
    horizon = at + _search_span(policy)
    clock = LocalClock(clock_zone, (at - timedelta(days=1), horizon + _SEARCH_SLACK))
    blocks = state_blocks(policy, attempt, history, borrower)
    rules = time_rules(policy, attempt, history, clock, horizon)
    time_blocked = [rule for rule in rules if rule.first_allowed(at) != at]
    blocks += [rule.explain(at) for rule in time_blocked]
    if not blocks:
        return _decision(policy, Action.ALLOW, [], None, "allowed", "允许联系")
    human = attempt.kind is ContactKind.HUMAN_RECORDED
    if len(blocks) > len(time_blocked):
        return _decision(policy, Action.REFUSE if human else Action.DROP, blocks, None)
    next_at = earliest_allowed(rules, at, horizon)
    if human:
        return _decision(policy, Action.REFUSE, blocks, next_at)
    limit = timedelta(hours=policy.defer_limit_hours)
    if next_at is None or next_at - at > limit:
        return _decision(
            policy,
            Action.DROP,
            blocks,
            None,
            f"; no allowed moment within {policy.defer_limit_hours} h",
            f"；{policy.defer_limit_hours} 小时内无可联系时间",
        )
    if any(policy.action_for(rule.rule) is Action.DROP for rule in time_blocked):
        return _decision(policy, Action.DROP, blocks, None)
    when = clock.local(next_at).strftime("%Y-%m-%d %H:%M")
    return _decision(
        policy,
        Action.DEFER,
        blocks,
        next_at,
        f"; deferred to {when} ({clock.name})",
        f"；顺延至 {when}（{clock.name}）",
    )


def _search_span(policy: ContactPolicy) -> timedelta:
    longest = max(
        timedelta(hours=policy.defer_limit_hours),
        timedelta(days=policy.attempts_window_days if policy.max_attempts_in_window is not None else 1),
        timedelta(days=policy.quiet_days_after_conversation or 1),
    )
    return longest + _SEARCH_SLACK


def _decision(
    policy: ContactPolicy,
    action: Action,
    blocks: list[Block],
    next_at: datetime | None,
    suffix: str = "",
    suffix_zh: str = "",
) -> ContactDecision:
    if blocks:
        reason = "; ".join(b.reason for b in blocks) + suffix
        reason_zh = "；".join(b.reason_zh for b in blocks) + suffix_zh
    else:
        reason, reason_zh = suffix, suffix_zh
    return ContactDecision(
        allowed=action is Action.ALLOW,
        action=action,
        rule=blocks[0].rule if blocks else None,
        reason=reason,
        reason_zh=reason_zh,
        next_allowed_at=next_at,
        policy_id=policy.policy_id,
        policy_version=policy.policy_version,
        blocked_by=tuple(b.rule for b in blocks),
    )
