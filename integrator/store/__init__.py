"""The store: the engine's system of record (SQLAlchemy Core, async; Alembic migrations).

``Store.open(url)`` accepts ``sqlite:///path`` and ``postgresql://…`` (and their async forms) and
migrates the database to the newest schema before returning.
"""

from integrator.store.confirmations import ConfirmationRecord
from integrator.store.destination_history import DestinationRevision, RevisionAudit
from integrator.store.errors import (
    Conflict,
    NotFound,
    RevisionTaken,
    StatusChanged,
    StoreConfigError,
    StoreError,
    StoreTlsError,
    StoreUnavailable,
    UnknownEvent,
    UnknownMessage,
)
from integrator.store.keyed import bsn_hash
from integrator.store.pauses import DestinationPause
from integrator.store.people import (
    GrantRecord,
    GrantSpec,
    InvitationRecord,
    NewInvitation,
    PersonRecord,
    SessionRecord,
    TokenRecord,
)
from integrator.store.presence import EnginePresence
from integrator.store.records import (
    PENDING_STATUSES,
    AttemptOutcome,
    AttemptRecord,
    AuditCheck,
    AuditFilter,
    AuditRecord,
    EventRecord,
    EventSource,
    MessageFilter,
    MessageRecord,
    MessageStatus,
    NewMessage,
    NewResend,
    PendingRef,
    RejectedEventRecord,
    RejectedFilter,
    RejectedKeys,
    RejectedSummary,
    ResendMode,
    ResendRecord,
    utc_now,
)
from integrator.store.store import RESEND_ACTION, AttemptUpdate, AuditedStatus, Clock, Store

__all__ = [
    "PENDING_STATUSES",
    "RESEND_ACTION",
    "AttemptOutcome",
    "AttemptRecord",
    "AttemptUpdate",
    "AuditCheck",
    "AuditFilter",
    "AuditRecord",
    "AuditedStatus",
    "Clock",
    "ConfirmationRecord",
    "Conflict",
    "DestinationPause",
    "DestinationRevision",
    "EnginePresence",
    "EventRecord",
    "EventSource",
    "GrantRecord",
    "GrantSpec",
    "InvitationRecord",
    "MessageFilter",
    "MessageRecord",
    "MessageStatus",
    "NewInvitation",
    "NewMessage",
    "NewResend",
    "NotFound",
    "PendingRef",
    "PersonRecord",
    "RejectedEventRecord",
    "RejectedFilter",
    "RejectedKeys",
    "RejectedSummary",
    "ResendMode",
    "ResendRecord",
    "RevisionAudit",
    "RevisionTaken",
    "SessionRecord",
    "StatusChanged",
    "Store",
    "StoreConfigError",
    "StoreError",
    "StoreTlsError",
    "StoreUnavailable",
    "TokenRecord",
    "UnknownEvent",
    "UnknownMessage",
    "bsn_hash",
    "utc_now",
]
