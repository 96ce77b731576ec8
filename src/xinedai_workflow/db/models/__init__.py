"""All tables. Import this package to register every model with `Base.metadata`."""

from .cases import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from .definitions import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from .history import HistoryEntry
from .idempotency import IdempotencyKey
from .outbox import OutboxMessage

__all__ = [
    "BufferedMessage",
    "Case",
    "Deployment",
    "HistoryEntry",
    "HumanTask",
    "IdempotencyKey",
    "MessageSubscription",
    "OutboxMessage",
    "ProcessVersion",
    "ProcessVersionFile",
    "StoredFile",
    "Timer",
]
