"""Service-task operations diagrams may call, and the outbox channel each one feeds."""

from __future__ import annotations

OPERATION_CHANNELS: dict[str, str] = {
    "send_sms": "sms",
    "send_email": "email",
    "send_registered_mail": "registered_mail",
    "place_automated_call": "automated_call",
    "report_to_mediator": "mediation_report",
    "notify_legal_consultation": "email",
    # 征信业管理条例 art. 15: the notice before a default is reported (bureau/ waits for it)
    "send_credit_report_notice": "sms",
}


def channel_for(operation: str) -> str:
    """The channel of an operation (KeyError for unknown operations)."""
    return OPERATION_CHANNELS[operation]
