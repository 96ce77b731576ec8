"""The individual contact rules.

State rules (opt-out, third party, dispute, plan) depend on who is contacted and the
borrower's state; no later moment satisfies them. Time rules (quiet hours, daily caps,
rolling attempts, post-conversation quiet) each give `first_allowed(t)`: the earliest instant
at or after `t` at which that rule alone allows the attempt, given the same history.
`earliest_allowed` combines them into the earliest moment at which all of them allow it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from xinedai_workflow.domain.contact_model import (
    CALL_CHANNELS,
    BorrowerContactState,
    Channel,
    ContactAttempt,
    ContactPolicy,
    ContactRecord,
    Purpose,
    Rule,
    Target,
)
from xinedai_workflow.domain.local_time import LocalClock

__all__ = [
    "Block",
    "TimeRule",
    "earliest_allowed",
    "in_quiet_hours",
    "line_of",
    "state_blocks",
    "time_rules",
]

_MIDNIGHT = time(0, 0)
# A no-contact window is shorter than a day; three days cover it plus any DST shift.
_QUIET_SEARCH = timedelta(days=3)
_OPT_OUT_ALL = "all"
_REFUSED = "refused"


@dataclass(frozen=True)
class Block:
    """Why one rule blocks an attempt, in English and Chinese."""

    rule: Rule
    reason: str
    reason_zh: str


@dataclass(frozen=True)
class TimeRule:
    """A rule that a later moment can satisfy."""

    rule: Rule
    first_allowed: Callable[[datetime], datetime | None]
    explain: Callable[[datetime], Block]


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """True when wall-clock `local` lies in [start, end), the window wrapping midnight if start > end."""
    if start < end:
        return start <= local < end
    return local >= start or local < end


def state_blocks(
    policy: ContactPolicy,
    attempt: ContactAttempt,
    history: Sequence[ContactRecord],
    borrower: BorrowerContactState,
) -> list[Block]:
    """Every state rule that blocks `attempt`, in reporting order."""
    blocks: list[Block] = []
    channel = attempt.channel
    opted = borrower.opt_outs
    voice_opt_out = channel is Channel.AUTOMATED_CALL and Channel.CALL.value in opted
    if _OPT_OUT_ALL in opted or channel.value in opted or voice_opt_out:
        blocks.append(
            Block(
                Rule.OPTED_OUT,
                f"the borrower opted out of contact by {channel}",
                f"借款人已拒绝通过 {channel} 渠道联系",
            )
        )
    third = _third_party_block(policy, attempt, history, borrower)
    if third is not None:
        blocks.append(third)
    if (
        borrower.dispute_open
        and policy.pause_while_dispute_open
        and _paused(policy, attempt, Rule.DISPUTE_OPEN)
    ):
        blocks.append(
            Block(
                Rule.DISPUTE_OPEN,
                "a dispute is under review: contact is paused until it is resolved",
                "借款人异议正在核查中，暂停联系",
            )
        )
    if (
        borrower.complaint_open
        and policy.pause_while_complaint_open
        and _paused(policy, attempt, Rule.COMPLAINT_OPEN)
    ):
        blocks.append(
            Block(
                Rule.COMPLAINT_OPEN,
                "a complaint about the collection is being handled: contact is paused",
                "借款人投诉处理中，暂停催收联系",
            )
        )
    if borrower.plan_kept and policy.pause_while_plan_kept and _paused(policy, attempt, Rule.PLAN_KEPT):
        blocks.append(
            Block(
                Rule.PLAN_KEPT,
                "the borrower is keeping a repayment plan: collection contact is paused",
                "借款人正在按还款计划履约，暂停催收联系",
            )
        )
    return blocks


def _paused(policy: ContactPolicy, attempt: ContactAttempt, pause: Rule) -> bool:
    return attempt.purpose is Purpose.COLLECTION or pause not in policy.service_exempt_from


def _third_party_block(
    policy: ContactPolicy,
    attempt: ContactAttempt,
    history: Sequence[ContactRecord],
    borrower: BorrowerContactState,
) -> Block | None:
    if attempt.target is Target.GUARANTOR:
        if policy.guarantor_contact_allowed:
            return None
        return Block(Rule.THIRD_PARTY, "the policy does not allow contacting guarantors", "不允许联系担保人")
    if attempt.target is not Target.EMERGENCY_CONTACT:
        return None
    if attempt.discloses_debt:
        return Block(
            Rule.THIRD_PARTY,
            "the debt must never be disclosed to a third party (emergency contact)",
            "不得向第三方（紧急联系人）透露债务信息",
        )
    if policy.emergency_contact_only_when_unreachable and not borrower.emergency_contact_warranted:
        return Block(
            Rule.THIRD_PARTY,
            "emergency contacts may only be approached when the borrower is recorded as unreachable, "
            "deceased or lacking capacity",
            "仅在借款人失联、死亡或丧失民事行为能力（已在案件中记录）时方可联系紧急联系人",
        )
    if attempt.target_id is not None and attempt.target_id in borrower.refused_emergency_contacts:
        return Block(
            Rule.THIRD_PARTY,
            "this emergency contact refused further contact",
            "该紧急联系人已拒绝再次被联系",
        )
    if attempt.channel not in policy.emergency_contact_channels:
        allowed = ", ".join(sorted(policy.emergency_contact_channels)) or "none"
        return Block(
            Rule.THIRD_PARTY,
            f"emergency contacts may not be contacted by {attempt.channel} (allowed: {allowed})",
            f"不得通过 {attempt.channel} 联系紧急联系人（允许：{allowed}）",
        )
    for record in history:
        if (
            record.target is Target.EMERGENCY_CONTACT
            and record.target_id == attempt.target_id
            and record.outcome == _REFUSED
        ):
            return Block(
                Rule.THIRD_PARTY,
                "this emergency contact refused further contact",
                "该紧急联系人已拒绝再次被联系",
            )
    return None


def time_rules(
    policy: ContactPolicy,
    attempt: ContactAttempt,
    history: Sequence[ContactRecord],
    clock: LocalClock,
    horizon: datetime,
) -> list[TimeRule]:
    """The time rules that apply to `attempt`'s channel, in reporting order."""
    channel = attempt.channel
    rules: list[TimeRule] = []
    if channel not in policy.quiet_exempt_channels:
        rules.append(_quiet_rule(policy, clock))
    if channel in CALL_CHANNELS:
        connected = [r for r in history if r.channel in CALL_CHANNELS and r.connected is not False]
        rules.append(
            _daily_rule(Rule.DAILY_CALL_CAP, policy.max_connected_calls_per_day, connected, clock, horizon)
        )
        if policy.max_call_attempts_per_day is not None:
            dialled = [r for r in history if r.channel in CALL_CHANNELS]
            cap = policy.max_call_attempts_per_day
            rules.append(_daily_rule(Rule.DAILY_CALL_ATTEMPT_CAP, cap, dialled, clock, horizon))
        unanswered_cap = policy.max_unanswered_attempts_per_number
        if unanswered_cap is not None:
            line = line_of(attempt.number, attempt.target, attempt.target_id)
            # an outcome not known yet may be an unanswered call: it counts here too
            unanswered = [
                r
                for r in history
                if r.channel in CALL_CHANNELS
                and r.connected is not True
                and line_of(r.number, r.target, r.target_id) == line
            ]
            rules.append(
                _daily_rule(Rule.UNANSWERED_ATTEMPTS_PER_NUMBER, unanswered_cap, unanswered, clock, horizon)
            )
    if policy.max_contacts_per_day is not None:
        contacts = [r for r in history if r.connected is not False]
        cap = policy.max_contacts_per_day
        rules.append(_daily_rule(Rule.DAILY_CONTACT_CAP, cap, contacts, clock, horizon))
    if policy.max_attempts_in_window is not None and channel in policy.attempts_channels:
        times = sorted(r.at for r in history if r.channel in policy.attempts_channels)
        window = timedelta(days=policy.attempts_window_days)
        rules.append(_rolling_rule(policy.max_attempts_in_window, window, times, clock))
    days = policy.quiet_days_after_conversation
    if days is not None and channel in policy.post_conversation_channels:
        talks = sorted(r.at for r in history if r.conversation and r.target is attempt.target)
        rules.append(_post_conversation_rule(timedelta(days=days), talks, clock))
    return rules


def line_of(number: str | None, target: Target, target_id: str | None) -> str:
    """The telephone line a call goes to: its number key, else the target's own line."""
    if number:
        return f"number:{number}"
    return f"{target.value}:{target_id or ''}"


def earliest_allowed(rules: Sequence[TimeRule], start: datetime, horizon: datetime) -> datetime | None:
    """The earliest instant in [start, horizon] at which every rule allows; None if there is none.

    Each rule's `first_allowed` is exact, so no instant skipped here is allowed by all rules.
    """
    moment = start
    while moment <= horizon:
        moved = False
        for rule in rules:
            candidate = rule.first_allowed(moment)
            if candidate is None:
                return None
            if candidate > moment:
                moment, moved = candidate, True
        if not moved:
            return moment
    return None


def _fmt(clock: LocalClock, instant: datetime) -> str:
    return clock.local(instant).strftime("%Y-%m-%d %H:%M")


def _quiet_rule(policy: ContactPolicy, clock: LocalClock) -> TimeRule:
    start, end = policy.quiet_start, policy.quiet_end

    def quiet(instant: datetime) -> bool:
        return in_quiet_hours(clock.local_time(instant), start, end)

    def first_allowed(t: datetime) -> datetime | None:
        if not quiet(t):
            return t
        for candidate in clock.boundaries(t, t + _QUIET_SEARCH, (end,)):
            if not quiet(candidate):
                return candidate
        return None

    def explain(t: datetime) -> Block:
        window = f"{start:%H:%M}–{end:%H:%M}"
        return Block(
            Rule.QUIET_HOURS,
            f"{_fmt(clock, t)} borrower's local time ({clock.name}) is within the no-contact hours {window}",
            f"借款人当地时间 {_fmt(clock, t)}（{clock.name}）处于禁止联系时段 {window}",
        )

    return TimeRule(Rule.QUIET_HOURS, first_allowed, explain)


_DAILY_TEXT = {
    Rule.DAILY_CALL_CAP: ("connected call(s)", "次接通电话", "connected calls"),
    Rule.DAILY_CALL_ATTEMPT_CAP: ("call attempt(s)", "次拨打电话", "call attempts"),
    Rule.DAILY_CONTACT_CAP: ("contact(s) on any channel", "次联系（全部渠道）", "contacts"),
    Rule.UNANSWERED_ATTEMPTS_PER_NUMBER: (
        "unanswered call attempt(s) to this number",
        "次未接通的拨打（同一号码）",
        "unanswered attempts per number",
    ),
}


def _daily_rule(
    rule: Rule, cap: int, counted: Sequence[ContactRecord], clock: LocalClock, horizon: datetime
) -> TimeRule:
    per_day: Counter[date] = Counter(clock.local_date(r.at) for r in counted)

    def blocked(instant: datetime) -> bool:
        return per_day[clock.local_date(instant)] >= cap

    def first_allowed(t: datetime) -> datetime | None:
        if not blocked(t):
            return t
        for candidate in clock.boundaries(t, max(horizon, t), (_MIDNIGHT,)):
            if not blocked(candidate):
                return candidate
        return None

    def explain(t: datetime) -> Block:
        day = clock.local_date(t)
        what, what_zh, plural = _DAILY_TEXT[rule]
        return Block(
            rule,
            f"{per_day[day]} {what} already on {day} (borrower's local day, {clock.name}); "
            f"at most {cap} {plural} a day",
            f"借款人当地日期 {day} 已有 {per_day[day]} {what_zh}，每日上限 {cap} 次",
        )

    return TimeRule(rule, first_allowed, explain)


def _rolling_rule(cap: int, window: timedelta, times: Sequence[datetime], clock: LocalClock) -> TimeRule:
    def count_ending(v: datetime) -> int:
        return bisect_right(times, v) - bisect_right(times, v - window)

    def worst(u: datetime) -> int:
        # Every window (v - W, v] that would contain u: v = u, or v at a later record within W.
        ends = [u, *times[bisect_left(times, u) : bisect_left(times, u + window)]]
        return max(count_ending(v) for v in ends)

    def first_allowed(t: datetime) -> datetime | None:
        if worst(t) < cap:
            return t
        # The worst count only drops when a record enters [u, ...) or leaves the window.
        candidates = sorted({x for r in times for x in (r, r + window) if x > t})
        for candidate in candidates:
            if worst(candidate) < cap:
                return candidate
        return None

    def explain(t: datetime) -> Block:
        days = window.days
        return Block(
            Rule.ROLLING_ATTEMPTS,
            f"{worst(t)} attempt(s) already within {days} days of {_fmt(clock, t)} ({clock.name}); "
            f"at most {cap} in any {days} days",
            f"{_fmt(clock, t)} 前后 {days} 天内已有 {worst(t)} 次尝试，任意 {days} 天内上限 {cap} 次",
        )

    return TimeRule(Rule.ROLLING_ATTEMPTS, first_allowed, explain)


def _post_conversation_rule(quiet: timedelta, talks: Sequence[datetime], clock: LocalClock) -> TimeRule:
    def last_blocking(u: datetime) -> datetime | None:
        hits = [c for c in talks if c <= u < c + quiet]
        return max(hits) if hits else None

    def first_allowed(t: datetime) -> datetime | None:
        moment = t
        while (talk := last_blocking(moment)) is not None:
            moment = talk + quiet
        return moment

    def explain(t: datetime) -> Block:
        talk = last_blocking(t) or t
        return Block(
            Rule.POST_CONVERSATION_QUIET,
            f"a conversation about the debt took place at {_fmt(clock, talk)} ({clock.name}); "
            f"no further calls for {quiet.days} days after a conversation",
            f"已于 {_fmt(clock, talk)} 与借款人通话，通话后 {quiet.days} 天内不再致电",
        )

    return TimeRule(Rule.POST_CONVERSATION_QUIET, first_allowed, explain)
