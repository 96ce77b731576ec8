"""Who a contact is with and what kind of contact it is, read from case variables, outbox rows
and the data of a completed contact task.

Case variables the policy reads (set by the overdue event and by the diagrams):
`borrower.id`, `borrower.timezone`, `plan_kept`, `dispute_open`, `contact_opt_outs` (channels,
or "all"), `unreachable`, `borrower_deceased` and `borrower_incapacitated` (the facts recorded
through the API count too, see `facts.py`). A case without `borrower.id` counts its contacts under
`loan:<loan_id>`.

Outbox payload keys the policy reads: `target` (borrower | guarantor | emergency_contact;
anyone else is a third party), `target_id`, `purpose` (collection | service) and
`discloses_debt` (assumed true for an emergency contact unless the diagram says false).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..db.models import Case, OutboxMessage
from ..domain.contact_model import (
    BorrowerContactState,
    Channel,
    ContactAttempt,
    ContactKind,
    ContactPolicy,
    Purpose,
    Target,
)
from ..domain.local_time import is_known_timezone

# Outbox channels (channels/operations.py) that reach a person; anything else (e.g. the
# mediation report) is not a contact with the borrower and is not subject to the policy.
OUTBOX_CONTACT_CHANNELS: dict[str, Channel] = {
    "sms": Channel.SMS,
    "email": Channel.EMAIL,
    "registered_mail": Channel.LETTER,
    "letter": Channel.LETTER,
    "automated_call": Channel.AUTOMATED_CALL,
}
# Channels a person records through a user task with the `contactChannel` property.
HUMAN_CHANNELS: frozenset[str] = frozenset(c.value for c in Channel if c is not Channel.AUTOMATED_CALL)
CONTACT_CHANNEL_PROPERTY = "contactChannel"
CONTACT_TARGET_PROPERTY = "contactTarget"
# Call outcomes (the call task's form field `outcome`).
NOT_CONNECTED_OUTCOMES = frozenset({"no_answer"})
CONVERSATION_OUTCOMES = frozenset({"promise_to_pay", "hardship", "dispute", "refused", "claims_paid"})
WRONG_PARTY = "wrong_party"
_NUMBER_SALT = b"xinedai-workflow:dialled-line:"


def number_key(number: Any) -> str | None:
    """An opaque key of a telephone number (its digits, hashed); None without digits. Contact
    records keep this key, never the number, to count unanswered attempts per number."""
    digits = re.sub(r"\D", "", str(number or ""))
    if not digits:
        return None
    return hashlib.sha256(_NUMBER_SALT + digits.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Borrower:
    """The person whose contacts are counted, in their own time zone."""

    id: str
    timezone: str
    state: BorrowerContactState


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"))


def _opt_outs(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    return frozenset(str(v).strip().lower() for v in value if str(v).strip())


def borrower_of(case: Case, policy: ContactPolicy) -> Borrower:
    """The borrower of a case and the state the policy needs, from its variables."""
    variables: Mapping[str, Any] = case.variables or {}
    person = variables.get("borrower")
    person = person if isinstance(person, Mapping) else {}
    raw_id = person.get("id")
    borrower_id = str(raw_id)[:200] if raw_id not in (None, "") else f"loan:{case.loan_id}"[:200]
    zone = person.get("timezone")
    known = isinstance(zone, str) and is_known_timezone(zone)
    timezone = zone if known and isinstance(zone, str) else policy.default_timezone
    state = BorrowerContactState(
        timezone=timezone,
        opt_outs=_opt_outs(variables.get("contact_opt_outs")),
        plan_kept=_flag(variables.get("plan_kept")),
        dispute_open=_flag(variables.get("dispute_open")),
        unreachable=_flag(variables.get("unreachable")),
        deceased=_flag(variables.get("borrower_deceased")),
        incapacitated=_flag(variables.get("borrower_incapacitated")),
    )
    return Borrower(borrower_id, timezone, state)


def _target(value: Any) -> tuple[Target, bool]:
    """The target, and whether it is nobody the policy knows (then a third party told of the debt)."""
    text = str(value).strip().lower() if value not in (None, "") else Target.BORROWER.value
    try:
        return Target(text), False
    except ValueError:
        return Target.EMERGENCY_CONTACT, True


def _discloses(target: Target, unknown: bool, stated: Any, default: bool) -> bool:
    if unknown:
        return True
    if target is not Target.EMERGENCY_CONTACT:
        return False
    return stated if isinstance(stated, bool) else default


def _purpose(value: Any) -> Purpose:
    try:
        return Purpose(str(value).strip().lower())
    except ValueError:
        return Purpose.COLLECTION


def outbound_attempt(row: OutboxMessage, at: datetime) -> ContactAttempt | None:
    """The attempt an outbox message makes, or None when it does not contact a person."""
    channel = OUTBOX_CONTACT_CHANNELS.get(row.channel)
    if channel is None:
        return None
    payload: Mapping[str, Any] = row.payload if isinstance(row.payload, Mapping) else {}
    target, unknown = _target(payload.get("target"))
    # what a template says is not known here: a message to an emergency contact is assumed to
    # disclose the debt unless the diagram states otherwise
    discloses = _discloses(target, unknown, payload.get("discloses_debt"), default=True)
    target_id = payload.get("target_id")
    return ContactAttempt(
        channel=channel,
        kind=ContactKind.OUTBOUND_AUTOMATED,
        at=at,
        target=target,
        discloses_debt=discloses,
        purpose=_purpose(payload.get("purpose")),
        target_id=None if target_id in (None, "") else str(target_id)[:200],
        number=number_key(payload.get("to")) if channel is Channel.AUTOMATED_CALL else None,
    )


@dataclass(frozen=True)
class HumanContact:
    """A contact a person records by completing a contact task."""

    attempt: ContactAttempt
    connected: bool
    conversation: bool
    outcome: str | None
    recording_ref: str | None


def contact_channel(properties: Mapping[str, Any]) -> str | None:
    """The task's `contactChannel` property, if it is a contact task."""
    value = properties.get(CONTACT_CHANNEL_PROPERTY)
    return str(value).strip().lower() if value not in (None, "") else None


def borrower_phone_of(case: Case) -> Any:
    """The borrower's phone number on file (the line a call to the borrower dials by default)."""
    person = (case.variables or {}).get("borrower")
    return person.get("phone") if isinstance(person, Mapping) else None


def human_contact(
    channel: str,
    properties: Mapping[str, Any],
    data: Mapping[str, Any],
    at: datetime,
    borrower_phone: Any = None,
) -> HumanContact:
    """The contact a completed contact task records; ValueError for a channel a person cannot use.

    The form's `outcome` decides: `no_answer` did not connect; promise_to_pay, hardship, dispute,
    refused and claims_paid were conversations about the debt; `wrong_party` reached a third
    party. `contact_target` / `contact_target_id` in the data (or the task's `contactTarget`
    property) say who was called; `contact_number` the number dialled (default: the borrower's
    own for a call to the borrower); `recording_ref` is kept as call-recording metadata.
    """
    if channel not in HUMAN_CHANNELS:
        raise ValueError(f"contactChannel {channel!r} is not a channel a person records")
    target, unknown = _target(data.get("contact_target", properties.get(CONTACT_TARGET_PROPERTY)))
    discloses = _discloses(target, unknown, data.get("discloses_debt"), default=False)
    outcome = data.get("outcome")
    outcome = str(outcome)[:64] if outcome not in (None, "") else None
    target_id = data.get("contact_target_id")
    recording = data.get("recording_ref")
    number = data.get("contact_number")
    if number in (None, "") and target is Target.BORROWER:
        number = borrower_phone
    attempt = ContactAttempt(
        channel=Channel(channel),
        kind=ContactKind.HUMAN_RECORDED,
        at=at,
        target=target,
        discloses_debt=discloses,
        target_id=None if target_id in (None, "") else str(target_id)[:200],
        number=number_key(number) if Channel(channel) is Channel.CALL else None,
    )
    return HumanContact(
        attempt=attempt,
        connected=outcome not in NOT_CONNECTED_OUTCOMES,
        conversation=outcome in CONVERSATION_OUTCOMES,
        outcome=outcome,
        recording_ref=str(recording)[:500] if isinstance(recording, str) and recording else None,
    )
