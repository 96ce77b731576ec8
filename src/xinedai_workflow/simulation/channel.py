"""The simulator's outbound channel: counts every message the guard let through, tells the
simulated borrower about it, and confirms delivery at once (as the local sink does)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ..channels.base import DeliveryResult, OutboundMessage
from ..channels.sink import tracking_number


class CountingChannel:
    """A `channels.base.Channel` that keeps counts instead of sending anything."""

    def __init__(self, on_sent: Callable[[OutboundMessage], None] | None = None) -> None:
        self.by_operation: Counter[str] = Counter()
        self.by_channel: Counter[str] = Counter()
        self.on_sent = on_sent

    def send(self, message: OutboundMessage) -> DeliveryResult:
        self.by_operation[message.operation] += 1
        self.by_channel[message.channel] += 1
        if self.on_sent is not None:
            self.on_sent(message)
        reference = (
            tracking_number(message.idempotency_key)
            if message.channel == "registered_mail"
            else f"SIM-{message.channel.upper()}-{self.by_channel[message.channel]}"
        )
        return DeliveryResult(True, reference, {"carrier": "simulation"}, confirmed=True)
