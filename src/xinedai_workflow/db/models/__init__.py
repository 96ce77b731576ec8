"""All tables. Import this package to register every model with `Base.metadata`."""

from .access_log import PersonalDataRead
from .agencies import Agency, Commission, Placement
from .bureau import BureauCorrection, BureauReport
from .cases import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from .complaints import Complaint, ContactFact
from .contacts import BlockedContact, RecordedContact
from .definitions import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from .history import HistoryEntry
from .idempotency import IdempotencyKey
from .outbox import OutboxMessage

__all__ = [
    "Agency",
    "BlockedContact",
    "BufferedMessage",
    "BureauCorrection",
    "BureauReport",
    "Case",
    "Commission",
    "Complaint",
    "ContactFact",
    "Deployment",
    "HistoryEntry",
    "HumanTask",
    "IdempotencyKey",
    "MessageSubscription",
    "OutboxMessage",
    "PersonalDataRead",
    "Placement",
    "ProcessVersion",
    "ProcessVersionFile",
    "RecordedContact",
    "StoredFile",
    "Timer",
]
