"""Contact policy: examples of each rule, DST edge cases, and the policy file's validation."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xinedai_workflow.domain.contact_policy import (
    Action,
    BorrowerContactState,
    Channel,
    ContactAttempt,
    ContactKind,
    ContactPolicy,
    ContactRecord,
    Purpose,
    Rule,
    Target,
    evaluate,
)
from xinedai_workflow.domain.policy_file import PolicyFileError, is_policy_file, load_policy, parse_policy

POLICY_PATH = Path(__file__).resolve().parents[2] / "processes" / "contact_policy.yaml"
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
AUTO = ContactKind.OUTBOUND_AUTOMATED
HUMAN = ContactKind.HUMAN_RECORDED


def sms(at: datetime, **kw: object) -> ContactAttempt:
    return ContactAttempt(Channel.SMS, AUTO, at, **kw)  # type: ignore[arg-type]


def call(at: datetime, **kw: object) -> ContactAttempt:
    return ContactAttempt(Channel.CALL, HUMAN, at, **kw)  # type: ignore[arg-type]


def calls(tz: ZoneInfo, day: tuple[int, int, int], hours: list[int], **kw: object) -> list[ContactRecord]:
    return [ContactRecord(Channel.CALL, datetime(*day, h, 0, tzinfo=tz), **kw) for h in hours]  # type: ignore[arg-type]


SHANGHAI = BorrowerContactState()
NEW_YORK = BorrowerContactState(timezone="America/New_York")


# --- quiet hours -------------------------------------------------------------------------


def test_quiet_hours_defer_to_local_morning() -> None:
    decision = evaluate(ContactPolicy(), sms(datetime(2025, 3, 1, 23, 15, tzinfo=SH)), [], SHANGHAI)
    assert decision.action is Action.DEFER and decision.rule is Rule.QUIET_HOURS
    assert decision.next_allowed_at == datetime(2025, 3, 2, 8, 0, tzinfo=SH)
    assert decision.next_allowed_at.tzinfo is UTC
    assert "22:00–08:00" in decision.reason and "Asia/Shanghai" in decision.reason
    assert decision.policy_version == "builtin"


@pytest.mark.parametrize(
    ("hour", "minute", "second", "allowed"),
    [(21, 59, 59, True), (22, 0, 0, False), (7, 59, 59, False), (8, 0, 0, True), (3, 0, 0, False)],
)
def test_quiet_hours_boundaries(hour: int, minute: int, second: int, allowed: bool) -> None:
    at = datetime(2025, 3, 1, hour, minute, second, tzinfo=SH)
    assert evaluate(ContactPolicy(), sms(at), [], SHANGHAI).allowed is allowed


def test_quiet_hours_use_borrower_zone_not_server_zone() -> None:
    at = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 22:00 the day before in New York
    assert evaluate(ContactPolicy(), sms(at), [], SHANGHAI).allowed
    decision = evaluate(ContactPolicy(), sms(at), [], NEW_YORK)
    assert decision.rule is Rule.QUIET_HOURS
    assert decision.next_allowed_at == datetime(2025, 6, 2, 8, 0, tzinfo=NY)


def test_quiet_hours_across_us_spring_forward() -> None:
    at = datetime(2024, 3, 10, 1, 30, tzinfo=NY)  # EST; at 02:00 clocks jump to 03:00 EDT
    decision = evaluate(ContactPolicy(), sms(at), [], NEW_YORK)
    assert decision.next_allowed_at == datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_quiet_hours_across_us_fall_back() -> None:
    at = datetime(2024, 11, 2, 23, 0, tzinfo=NY)  # EDT; at 02:00 clocks go back to 01:00 EST
    decision = evaluate(ContactPolicy(), sms(at), [], NEW_YORK)
    assert decision.next_allowed_at == datetime(2024, 11, 3, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_quiet_end_inside_a_dst_gap_is_the_transition() -> None:
    # Lord Howe moves 02:00 -> 02:30 on 2024-10-06; 02:15 does not exist that night.
    policy = ContactPolicy(quiet_start=time(22, 0), quiet_end=time(2, 15))
    borrower = BorrowerContactState(timezone="Australia/Lord_Howe")
    at = datetime(2024, 10, 6, 1, 0, tzinfo=ZoneInfo("Australia/Lord_Howe"))
    decision = evaluate(policy, sms(at), [], borrower)
    assert decision.next_allowed_at == datetime(2024, 10, 5, 15, 30, tzinfo=UTC)  # 02:30 +11:00


def test_letters_exempt_from_quiet_hours_only_if_policy_says_so() -> None:
    at = datetime(2025, 3, 1, 23, 0, tzinfo=SH)
    letter = ContactAttempt(Channel.LETTER, AUTO, at)
    assert not evaluate(ContactPolicy(), letter, [], SHANGHAI).allowed
    exempt = ContactPolicy(quiet_exempt_channels=frozenset({Channel.LETTER}))
    assert evaluate(exempt, letter, [], SHANGHAI).allowed
    assert not evaluate(exempt, sms(at), [], SHANGHAI).allowed


def test_drop_action_per_rule() -> None:
    policy = ContactPolicy(actions={Rule.QUIET_HOURS: Action.DROP})
    decision = evaluate(policy, sms(datetime(2025, 3, 1, 23, 0, tzinfo=SH)), [], SHANGHAI)
    assert decision.action is Action.DROP and decision.next_allowed_at is None


# --- daily caps ----------------------------------------------------------------------------


def test_connected_call_cap_counts_connected_and_pending_calls_only() -> None:
    at = datetime(2025, 3, 3, 15, 0, tzinfo=SH)
    unanswered = calls(SH, (2025, 3, 3), [9, 10, 11, 12], connected=False)
    assert evaluate(ContactPolicy(), call(at), unanswered, SHANGHAI).allowed
    two = calls(SH, (2025, 3, 3), [9, 10])
    assert evaluate(ContactPolicy(), call(at), two, SHANGHAI).allowed
    pending = [*two, ContactRecord(Channel.CALL, datetime(2025, 3, 3, 14, 59, tzinfo=SH), connected=None)]
    decision = evaluate(ContactPolicy(), call(at), pending, SHANGHAI)
    assert decision.action is Action.REFUSE and decision.rule is Rule.DAILY_CALL_CAP
    assert decision.next_allowed_at == datetime(2025, 3, 4, 8, 0, tzinfo=SH)


def test_call_cap_counts_automated_calls_and_other_agencies_alike() -> None:
    at = datetime(2025, 3, 3, 15, 0, tzinfo=SH)
    history = [
        ContactRecord(Channel.AUTOMATED_CALL, datetime(2025, 3, 3, 9, 0, tzinfo=SH)),
        *calls(SH, (2025, 3, 3), [10, 11]),
    ]
    robocall = ContactAttempt(Channel.AUTOMATED_CALL, AUTO, at)
    assert evaluate(ContactPolicy(), robocall, history, SHANGHAI).rule is Rule.DAILY_CALL_CAP
    assert evaluate(ContactPolicy(), sms(at), history, SHANGHAI).allowed  # SMS is no call


def test_daily_cap_resets_at_local_midnight_not_utc_midnight() -> None:
    policy = ContactPolicy(quiet_start=time(2, 0), quiet_end=time(3, 0))
    history = calls(NY, (2024, 6, 1), [9, 10, 11])
    at = datetime(2024, 6, 1, 21, 0, tzinfo=NY)  # already 2024-06-02 in UTC
    decision = evaluate(policy, call(at), history, NEW_YORK)
    assert decision.rule is Rule.DAILY_CALL_CAP
    assert decision.next_allowed_at == datetime(2024, 6, 2, 0, 0, tzinfo=NY)


def test_daily_cap_on_a_day_without_midnight() -> None:
    # Santiago skips 2024-09-08 00:00-01:00: the new day starts at 01:00 -03.
    tz = ZoneInfo("America/Santiago")
    policy = ContactPolicy(quiet_start=time(3, 0), quiet_end=time(4, 0))
    history = calls(tz, (2024, 9, 7), [9, 10, 11])
    decision = evaluate(
        policy, call(datetime(2024, 9, 7, 20, 0, tzinfo=tz)), history, BorrowerContactState(tz.key)
    )
    assert decision.next_allowed_at == datetime(2024, 9, 8, 4, 0, tzinfo=UTC)


def test_contact_cap_counts_every_channel_that_reached_the_borrower() -> None:
    policy = ContactPolicy(max_contacts_per_day=2)
    at = datetime(2025, 3, 3, 15, 0, tzinfo=SH)
    history = [
        ContactRecord(Channel.SMS, datetime(2025, 3, 3, 9, 0, tzinfo=SH)),
        ContactRecord(Channel.EMAIL, datetime(2025, 3, 3, 9, 5, tzinfo=SH), connected=False),
    ]
    assert evaluate(policy, sms(at), history, SHANGHAI).allowed
    history.append(ContactRecord(Channel.CALL, datetime(2025, 3, 3, 10, 0, tzinfo=SH)))
    decision = evaluate(policy, sms(at), history, SHANGHAI)
    assert decision.rule is Rule.DAILY_CONTACT_CAP
    assert decision.next_allowed_at == datetime(2025, 3, 4, 8, 0, tzinfo=SH)


def test_daily_call_attempt_cap_optional() -> None:
    at = datetime(2025, 3, 3, 15, 0, tzinfo=SH)
    history = calls(SH, (2025, 3, 3), [9, 10], connected=False)
    assert evaluate(ContactPolicy(), call(at), history, SHANGHAI).allowed
    decision = evaluate(ContactPolicy(max_call_attempts_per_day=2), call(at), history, SHANGHAI)
    assert decision.rule is Rule.DAILY_CALL_ATTEMPT_CAP


# --- rolling window and post-conversation quiet -------------------------------------------


def test_rolling_attempts_defer_until_the_oldest_leaves_the_window() -> None:
    policy = ContactPolicy(max_attempts_in_window=7, defer_limit_hours=200)
    history = [
        ContactRecord(Channel.CALL, datetime(2025, 3, d, 10, 0, tzinfo=SH), connected=False)
        for d in range(1, 8)
    ]
    robocall = ContactAttempt(Channel.AUTOMATED_CALL, AUTO, datetime(2025, 3, 7, 15, 0, tzinfo=SH))
    decision = evaluate(policy, robocall, history, SHANGHAI)
    assert decision.rule is Rule.ROLLING_ATTEMPTS and decision.action is Action.DEFER
    assert decision.next_allowed_at == datetime(2025, 3, 8, 10, 0, tzinfo=SH)
    assert evaluate(policy, sms(robocall.at), history, SHANGHAI).allowed  # rule is for calls only


def test_deferral_beyond_the_limit_is_dropped() -> None:
    policy = ContactPolicy(max_attempts_in_window=2)
    history = calls(SH, (2025, 3, 1), [10, 11], connected=False)
    robocall = ContactAttempt(Channel.AUTOMATED_CALL, AUTO, datetime(2025, 3, 2, 15, 0, tzinfo=SH))
    decision = evaluate(policy, robocall, history, SHANGHAI)
    assert decision.action is Action.DROP and "72 h" in decision.reason


def test_post_conversation_quiet() -> None:
    policy = ContactPolicy(quiet_days_after_conversation=7)
    talk = ContactRecord(Channel.CALL, datetime(2025, 3, 1, 10, 0, tzinfo=SH), conversation=True)
    decision = evaluate(policy, call(datetime(2025, 3, 5, 10, 0, tzinfo=SH)), [talk], SHANGHAI)
    assert decision.rule is Rule.POST_CONVERSATION_QUIET and decision.action is Action.REFUSE
    assert decision.next_allowed_at == datetime(2025, 3, 8, 10, 0, tzinfo=SH)
    assert evaluate(policy, sms(datetime(2025, 3, 5, 10, 0, tzinfo=SH)), [talk], SHANGHAI).allowed


# --- state rules -----------------------------------------------------------------------


NOON = datetime(2025, 3, 3, 12, 0, tzinfo=SH)


def test_plan_kept_pauses_collection_but_not_service_messages() -> None:
    keeping = BorrowerContactState(plan_kept=True)
    assert evaluate(ContactPolicy(), sms(NOON), [], keeping).action is Action.DROP
    human = evaluate(ContactPolicy(), call(NOON), [], keeping)
    assert human.action is Action.REFUSE and human.rule is Rule.PLAN_KEPT and "plan" in human.reason
    assert evaluate(ContactPolicy(), sms(NOON, purpose=Purpose.SERVICE), [], keeping).allowed
    assert evaluate(ContactPolicy(pause_while_plan_kept=False), sms(NOON), [], keeping).allowed


def test_dispute_open_pauses_everything() -> None:
    disputing = BorrowerContactState(dispute_open=True)
    assert (
        evaluate(ContactPolicy(), sms(NOON, purpose=Purpose.SERVICE), [], disputing).rule is Rule.DISPUTE_OPEN
    )
    assert evaluate(ContactPolicy(), call(NOON), [], disputing).action is Action.REFUSE


def test_opt_outs() -> None:
    no_sms = BorrowerContactState(opt_outs=frozenset({"sms"}))
    assert evaluate(ContactPolicy(), sms(NOON), [], no_sms).rule is Rule.OPTED_OUT
    assert evaluate(ContactPolicy(), call(NOON), [], no_sms).allowed
    no_calls = BorrowerContactState(opt_outs=frozenset({"call"}))
    robocall = ContactAttempt(Channel.AUTOMATED_CALL, AUTO, NOON)
    assert evaluate(ContactPolicy(), robocall, [], no_calls).action is Action.DROP
    nothing = BorrowerContactState(opt_outs=frozenset({"all"}))
    assert (
        evaluate(ContactPolicy(), ContactAttempt(Channel.LETTER, AUTO, NOON), [], nothing).rule
        is Rule.OPTED_OUT
    )


def test_third_party_rules() -> None:
    policy = ContactPolicy()
    lost = BorrowerContactState(unreachable=True)
    mother = call(NOON, target=Target.EMERGENCY_CONTACT, target_id="ec-1")
    refused = evaluate(policy, mother, [], SHANGHAI)
    assert refused.rule is Rule.THIRD_PARTY and "unreachable" in refused.reason
    assert evaluate(policy, mother, [], lost).allowed
    telling = replace(mother, discloses_debt=True)
    assert "disclosed" in evaluate(policy, telling, [], lost).reason
    letter = ContactAttempt(Channel.LETTER, AUTO, NOON, target=Target.EMERGENCY_CONTACT)
    assert evaluate(policy, letter, [], lost).action is Action.DROP
    said_no = ContactRecord(
        Channel.CALL,
        NOON - timedelta(days=2),
        target=Target.EMERGENCY_CONTACT,
        target_id="ec-1",
        outcome="refused",
    )
    assert "refused" in evaluate(policy, mother, [said_no], lost).reason
    assert evaluate(policy, replace(mother, target_id="ec-2"), [said_no], lost).allowed
    guarantor = call(NOON, target=Target.GUARANTOR, discloses_debt=True)
    assert evaluate(policy, guarantor, [], SHANGHAI).allowed
    assert not evaluate(replace(policy, guarantor_contact_allowed=False), guarantor, [], SHANGHAI).allowed


def test_decision_record_is_json_ready_and_names_the_policy_version() -> None:
    policy = ContactPolicy(policy_id="p", policy_version="7")
    decision = evaluate(
        policy, sms(datetime(2025, 3, 1, 23, 0, tzinfo=SH)), [], BorrowerContactState(plan_kept=True)
    )
    record = decision.as_record()
    assert json.loads(json.dumps(record))["policy_version"] == "7"
    assert record["blocked_by"] == ["plan_kept", "quiet_hours"] and record["action"] == "drop"
    assert decision.reason_zh


# --- construction checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quiet_start": time(8, 0), "quiet_end": time(8, 0)},
        {"max_connected_calls_per_day": -1},
        {"default_timezone": "Mars/Olympus_Mons"},
        {"actions": {Rule.QUIET_HOURS: "postpone"}},
        {"actions": {Rule.PLAN_KEPT: Action.DEFER}},
        {"defer_limit_hours": 0},
    ],
)
def test_nonsense_policy_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ContactPolicy(**kwargs)  # type: ignore[arg-type]


def test_bad_attempts_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sms(datetime(2025, 3, 1, 12, 0))
    with pytest.raises(ValueError):
        ContactAttempt(Channel.VISIT, AUTO, NOON)
    with pytest.raises(ValueError):
        ContactAttempt("fax", AUTO, NOON)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time zone"):
        BorrowerContactState(timezone="Asia/Beijing")


# --- the policy file -----------------------------------------------------------------------


def test_repository_policy_file_is_valid_and_matches_code_defaults() -> None:
    bundle = load_policy(POLICY_PATH)
    assert bundle.contact.policy_id == "xinedai-contact-policy"
    assert bundle.retention.contact_records_days >= 1095
    assert len(bundle.sha256) == 64
    builtin = ContactPolicy()
    differing = {
        f.name for f in fields(ContactPolicy) if getattr(builtin, f.name) != getattr(bundle.contact, f.name)
    }
    assert differing <= {"policy_version"}
    assert {e.id for e in bundle.lint.required} == {
        "bank_identity",
        "collector_identity",
        "amount_owed",
        "how_to_pay",
        "options",
    }
    assert is_policy_file("processes/contact_policy.yaml") and not is_policy_file("x.bpmn")


def _edit(old: str, new: str) -> str:
    text = POLICY_PATH.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "element", "words"),
    [
        (
            "max_connected_calls: 3",
            "max_connected_calls: -1",
            "contact.daily_caps.max_connected_calls",
            "minimum",
        ),
        ('end: "08:00"', 'end: "22:00"', "contact.quiet_hours.end", "same time"),
        ('start: "22:00"', "start: 22:00", "contact.quiet_hours.start", "quotes"),
        ('end: "08:00"', 'end: "8 am"', "contact.quiet_hours.end", "HH:MM"),
        (
            "default_timezone: Asia/Shanghai",
            "default_timezone: China/Beijing",
            "contact.default_timezone",
            "unknown",
        ),
        ("quiet_hours: defer", "quiet_hours: postpone", "contact.actions.quiet_hours", "postpone"),
        ("max_contacts: 6", "max_contact: 6", "contact.daily_caps.max_contact", "unknown setting"),
        ("contact_records_days: 1095", "contact_records_days: 365", "retention.contact_records_days", "730"),
        ("window_days: 7", "window_days: 0", "contact.rolling_attempts.window_days", "minimum"),
    ],
)
def test_nonsense_policy_file_refused_with_line(old: str, new: str, element: str, words: str) -> None:
    text = _edit(old, new)
    bundle, problems = parse_policy(text)
    assert bundle is None
    hit = [p for p in problems if p.element_id == element]
    assert hit, problems
    assert hit[0].line == _line_of(text, new)
    assert words in hit[0].message
    assert set(hit[0].as_detail()) == {"file", "line", "element_id", "message"}


def test_duplicate_keys_aliases_and_broken_yaml_refused() -> None:
    dup = _edit("  defer_limit_hours: 72", "  defer_limit_hours: 72\n  defer_limit_hours: 1")
    _, problems = parse_policy(dup)
    assert any("duplicate" in p.message and p.line == _line_of(dup, "defer_limit_hours: 1") for p in problems)
    alias = _edit("exempt_channels: []", "exempt_channels: &x []\n    x2: *x")
    assert "alias" in parse_policy(alias)[1][0].message
    broken = _edit("  daily_caps:", "  daily_caps: [")
    _, problems = parse_policy(broken)
    assert problems and problems[0].line is not None and "YAML" in problems[0].message
    assert parse_policy("")[1][0].message == "the policy file is empty"


def test_json_policy_file_accepted(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    path = tmp_path / "contact_policy.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    assert load_policy(path).contact == load_policy(POLICY_PATH).contact
    data["contact"]["daily_caps"]["max_connected_calls"] = "three"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        load_policy(path)
    assert info.value.problems[0].line == _line_of(path.read_text(), '"max_connected_calls"')


# -- 2025-2026 rules: unanswered attempts per number, emergency-contact conditions, complaints ----

_NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _unanswered(n: int, number: str | None) -> list[ContactRecord]:
    return [
        ContactRecord(Channel.CALL, _NOON - timedelta(minutes=10 * (i + 1)), connected=False, number=number)
        for i in range(n)
    ]


def test_sixth_unanswered_attempt_to_a_number_is_the_last_of_the_day() -> None:
    policy = ContactPolicy()
    assert policy.max_unanswered_attempts_per_number == 6
    call = ContactAttempt(Channel.CALL, ContactKind.HUMAN_RECORDED, _NOON, number="line-a")
    state = BorrowerContactState(timezone="Asia/Shanghai")
    assert evaluate(policy, call, _unanswered(5, "line-a"), state).allowed
    refused = evaluate(policy, call, _unanswered(6, "line-a"), state)
    assert refused.action is Action.REFUSE and refused.rule is Rule.UNANSWERED_ATTEMPTS_PER_NUMBER
    # the next local day, once the quiet hours end (08:00 Shanghai)
    assert refused.next_allowed_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    # another number of the same borrower is still allowed; a robot call to line-a is not
    assert evaluate(policy, replace(call, number="line-b"), _unanswered(6, "line-a"), state).allowed
    robot = ContactAttempt(Channel.AUTOMATED_CALL, ContactKind.OUTBOUND_AUTOMATED, _NOON, number="line-a")
    assert evaluate(policy, robot, _unanswered(6, "line-a"), state).action is Action.DEFER


def test_emergency_contact_needs_a_recorded_reason_and_a_refusal_holds() -> None:
    policy = ContactPolicy()
    call = ContactAttempt(
        Channel.CALL, ContactKind.HUMAN_RECORDED, _NOON, target=Target.EMERGENCY_CONTACT, target_id="ec-1"
    )
    assert evaluate(policy, call, [], BorrowerContactState()).rule is Rule.THIRD_PARTY
    for state in (
        BorrowerContactState(unreachable=True),
        BorrowerContactState(deceased=True),
        BorrowerContactState(incapacitated=True),
    ):
        assert evaluate(policy, call, [], state).allowed
    refused = BorrowerContactState(deceased=True, refused_emergency_contacts=frozenset({"ec-1"}))
    decision = evaluate(policy, call, [], refused)
    assert decision.rule is Rule.THIRD_PARTY and "refused" in decision.reason
    assert evaluate(policy, replace(call, target_id="ec-2"), [], refused).allowed


def test_an_open_complaint_pauses_collection_but_not_exempted_service_messages() -> None:
    sms = ContactAttempt(Channel.SMS, ContactKind.OUTBOUND_AUTOMATED, _NOON)
    state = BorrowerContactState(complaint_open=True)
    decision = evaluate(ContactPolicy(), sms, [], state)
    assert decision.action is Action.DROP and decision.rule is Rule.COMPLAINT_OPEN
    service = replace(sms, purpose=Purpose.SERVICE)
    assert not evaluate(ContactPolicy(), service, [], state).allowed
    exempt = ContactPolicy(service_exempt_from=frozenset({Rule.PLAN_KEPT, Rule.COMPLAINT_OPEN}))
    assert evaluate(exempt, service, [], state).allowed
