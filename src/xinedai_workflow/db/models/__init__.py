"""All tables. Import this package to register every model with `Base.metadata`."""

from .access_log import PersonalDataRead
from .cases import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from .contacts import BlockedContact, RecordedContact
from .definitions import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from .history import HistoryEntry
from .idempotency import IdempotencyKey
from .outbox import OutboxMessage
from .version_diffs import ProcessVersionDiff

__all__ = [
    "BlockedContact",
    "BufferedMessage",
    "Case",
    "Deployment",
    "HistoryEntry",
    "HumanTask",
    "IdempotencyKey",
    "MessageSubscription",
    "OutboxMessage",
    "PersonalDataRead",
    "ProcessVersion",
    "ProcessVersionDiff",
    "ProcessVersionFile",
    "RecordedContact",
    "StoredFile",
    "Timer",
]
