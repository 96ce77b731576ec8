"""All tables. Import this package to register every model with `Base.metadata`."""

from .access_log import PersonalDataRead
from .agencies import Agency, Commission, Placement
from .batches import Batch, BatchItem, ContactPause
from .bureau import BureauCorrection, BureauReport
from .cases import BufferedMessage, Case, HumanTask, MessageSubscription, Timer
from .complaints import Complaint, ContactFact
from .contacts import BlockedContact, RecordedContact
from .definitions import Deployment, ProcessVersion, ProcessVersionFile, StoredFile
from .history import HistoryEntry
from .idempotency import IdempotencyKey
from .outbox import OutboxMessage
from .simulations import Simulation
from .studio import DefinitionAuditEntry, Draft, DraftFile, VersionApproval
from .version_diffs import ProcessVersionDiff

__all__ = [
    "Agency",
    "Batch",
    "BatchItem",
    "BlockedContact",
    "BufferedMessage",
    "BureauCorrection",
    "BureauReport",
    "Case",
    "Commission",
    "Complaint",
    "ContactFact",
    "ContactPause",
    "DefinitionAuditEntry",
    "Deployment",
    "Draft",
    "DraftFile",
    "HistoryEntry",
    "HumanTask",
    "IdempotencyKey",
    "MessageSubscription",
    "OutboxMessage",
    "PersonalDataRead",
    "Placement",
    "ProcessVersion",
    "ProcessVersionDiff",
    "ProcessVersionFile",
    "RecordedContact",
    "Simulation",
    "StoredFile",
    "Timer",
    "VersionApproval",
]
