"""The store: the engine's system of record (SQLAlchemy Core, async; Alembic migrations).

``Store.open(url)`` accepts ``sqlite:///path`` and ``postgresql://…`` (and their async forms) and
migrates the database to the newest schema before returning.
"""

from integrator.store.errors import (
    Conflict,
    NotFound,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
    UnknownEvent,
    UnknownMessage,
)
from integrator.store.records import (
    PENDING_STATUSES,
    AttemptOutcome,
    AttemptRecord,
    AuditRecord,
    EventRecord,
    EventSource,
    MessageFilter,
    MessageRecord,
    MessageStatus,
    NewMessage,
    RejectedEventRecord,
    utc_now,
)
from integrator.store.store import AttemptUpdate, Clock, Store

__all__ = [
    "PENDING_STATUSES",
    "AttemptOutcome",
    "AttemptRecord",
    "AttemptUpdate",
    "AuditRecord",
    "Clock",
    "Conflict",
    "EventRecord",
    "EventSource",
    "MessageFilter",
    "MessageRecord",
    "MessageStatus",
    "NewMessage",
    "NotFound",
    "RejectedEventRecord",
    "Store",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "UnknownEvent",
    "UnknownMessage",
    "utc_now",
]
