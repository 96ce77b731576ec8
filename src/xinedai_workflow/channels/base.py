"""The interface every outbound channel adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """What the outbox hands a channel. `idempotency_key` is stable across retries."""

    id: str
    channel: str
    operation: str
    idempotency_key: str
    case_id: str
    loan_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    reference: str | None = None
    detail: dict[str, Any] | None = None
    retryable: bool = True
    error: str | None = None
    # True when the channel itself confirms delivery to the person (the local sink does, at once);
    # a real gateway or mail house confirms later with a `notice_delivered` message instead.
    confirmed: bool = False


class Channel(Protocol):
    """Sends one message; must be safe to call again with the same idempotency key."""

    def send(self, message: OutboundMessage) -> DeliveryResult: ...
