"""All tables. Import this package to register every model with `Base.metadata`."""

from .access_log import PersonalDataRead
from .batches import Batch, BatchItem, ContactPause
from .cases import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from .contacts import BlockedContact, RecordedContact
from .definitions import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from .history import HistoryEntry
from .idempotency import IdempotencyKey
from .outbox import OutboxMessage
from .simulations import Simulation

__all__ = [
    "Batch",
    "BatchItem",
    "BlockedContact",
    "BufferedMessage",
    "Case",
    "ContactPause",
    "Deployment",
    "HistoryEntry",
    "HumanTask",
    "IdempotencyKey",
    "MessageSubscription",
    "OutboxMessage",
    "PersonalDataRead",
    "ProcessVersion",
    "ProcessVersionFile",
    "RecordedContact",
    "Simulation",
    "StoredFile",
    "Timer",
]
