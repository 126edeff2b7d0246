"""The store's vocabulary: immutable records that cross its boundary.

Records are frozen dataclasses rather than SQLAlchemy rows so that callers never hold a live
database object, never trigger lazy I/O, and can pass records between tasks safely.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

MAX_CONTROL_ID_LENGTH = 20


def utc_now() -> datetime:
    """The default clock; injectable everywhere so tests can move time."""
    return datetime.now(UTC)


class MessageStatus(StrEnum):
    """Where an outbound message is in its life; the store refuses any other value."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    HELD = "held"
    DEAD = "dead"
    CANCELLED = "cancelled"


PENDING_STATUSES: tuple[MessageStatus, ...] = (
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.RETRYING,
)
"""Statuses a delivery worker must pick up again after a restart."""


class AttemptOutcome(StrEnum):
    """What one delivery attempt ended in."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DEADLETTER = "deadletter"
    FAILED = "failed"


class EventSource(StrEnum):
    """How an event or rejected input entered the engine."""

    HTTP = "http"
    CLI = "cli"
    AMQP = "amqp"
    DEMO = "demo"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A validated intake event; ``payload`` is its JSON-ready form.

    Going in, ``payload`` may also be that form already written as JSON text: intake passes
    pydantic's own serialisation, which costs a fraction of building a dict and dumping it.
    Coming out of the store it is always the dict.
    """

    id: str
    type: str
    action: str
    zd_number: str
    provider_id: str
    received_at: datetime
    source: str
    payload: dict[str, Any] | str
    # HMAC-SHA256 of the patient's BSN with the search key (``integrator.store.keyed``), so
    # support can find a patient's messages without the store holding a searchable BSN.
    bsn_hash: str | None = None
    # Set when retention emptied the payload (then ``{}``); the event's other fields remain.
    pruned_at: datetime | None = None
    # Who sent it, as the front door established it (``token:<name>``, ``local:<user>``,
    # ``amqp``, ``demo``); None for events accepted before store revision 0037.
    caller: str | None = None


ROUTE_ACTION = "event.route"
"""The audit action of ``integrator events route``: its target is the event id."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Search terms for events; ``None`` means "any". The period is on ``received_at``.

    ``unrouted``: only events with no outbound message at all, the ones stored while no
    destination served their provider (an original, a resend or a held message all count as
    routed, so an event is never offered twice for the same mistake).
    """

    zd_number: str | None = None
    provider_id: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    bsn_hash: str | None = None  # never the BSN itself: see ``integrator.store.keyed``
    unrouted: bool = False
    # Pruned with no message ever made of it (``events.unrouted`` kept, ``pruned_at`` set): the
    # referrals nobody received whose content is gone, which only upstream can send again.
    never_routed: bool = False
    event_ids: tuple[str, ...] | None = None  # any of these (at most a few hundred at a time)
    # Only events with a message for one of these destinations (the clusters an identity may
    # see); None: no such limit. An unrouted event has no message, so it is left out.
    destination_ids: frozenset[str] | None = None
    # Sent by this caller exactly (``token:<name>``, ``local:<user>``, ``amqp``, ``demo``):
    # every event a leaked intake token brought in.
    caller: str | None = None


@dataclass(frozen=True, slots=True)
class ListedEvent:
    """An event as listings show it: without its payload, which attachments can make megabytes
    long, and with how many messages were made of it."""

    id: str
    type: str
    action: str
    zd_number: str
    provider_id: str
    received_at: datetime
    source: str
    message_count: int
    unrouted: bool
    """Waiting to be routed: stored without a message, and neither routed nor pruned since (the
    store's own mark, ``events.unrouted``, on a row not pruned; a count of none is also an
    event pruned unrouted past its period, or one whose messages lie outside the caller's
    clusters)."""
    caller: str | None = None
    """Who sent it (``EventRecord.caller``); None for events accepted before revision 0037."""
    pruned_at: datetime | None = None
    """When retention emptied its JSON: listed, so the referrals pruned before any destination
    got them (``EventFilter.never_routed``) can be asked of upstream by ZD number."""


@dataclass(frozen=True, slots=True)
class ZdEvent:
    """An accepted event as a ZD number's history holds it (``Store.zd_history``): identifiers
    only, no payload, no patient."""

    event_id: str
    type: str
    action: str


@dataclass(frozen=True, slots=True)
class NewRouting:
    """Messages to add to an event stored earlier, as ``integrator events route`` makes them."""

    event_id: str
    messages: tuple[NewMessage, ...]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """An outbound message to be stored together with its event."""

    id: str
    destination_id: str
    version: str
    message_type: str
    control_id: str
    payload: bytes
    status: str = MessageStatus.QUEUED
    warnings: tuple[str, ...] = ()
    is_test: bool = False
    resend_of: str | None = None  # the message this one resends (a new row, never an update)

    def __post_init__(self) -> None:
        # Checked here so both backends refuse the same values (SQLite ignores VARCHAR lengths).
        if not 0 < len(self.control_id) <= MAX_CONTROL_ID_LENGTH:
            raise ValueError(f"control_id must be 1 to {MAX_CONTROL_ID_LENGTH} characters")
        MessageStatus(self.status)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A stored outbound message, with its event's ZD number and type for listings."""

    id: str
    seq: int
    event_id: str
    destination_id: str
    version: str
    message_type: str
    control_id: str
    payload: bytes  # b"" also when listed without it (``Store.list_messages(payloads=False)``)
    status: str
    attempt_count: int
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None
    warnings: tuple[str, ...]
    is_test: bool
    zd_number: str
    event_type: str
    resend_of: str | None = None
    # Set when retention emptied ``payload`` (then ``b""``) and the attempts' ACK bytes.
    pruned_at: datetime | None = None
    # When it was last released from held; its max_age counts from then (destinations.retry).
    released_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingRef:
    """A pending message without its payload: what a queue needs to hold its place.

    ``size`` is the stored payload's length, sealing included when the store seals: a few
    dozen bytes more than the payload itself, enough to budget a window by.
    """

    id: str
    destination_id: str
    attempt_count: int
    size: int


class ResendMode(StrEnum):
    """``original``: the same bytes and MSH-10; ``remap``: mapped again, with a new MSH-10."""

    ORIGINAL = "original"
    REMAP = "remap"


@dataclass(frozen=True, slots=True)
class NewResend:
    """A resend to store: the new message, what it resends, and who asked for it and why."""

    original: MessageRecord
    message: NewMessage
    mode: str
    actor: str
    reason: str
    job_id: str | None = None
    source: str | None = None  # the client's address, for the audit entry's "from where"

    def __post_init__(self) -> None:
        ResendMode(self.mode)
        if self.message.resend_of != self.original.id:
            raise ValueError("a resend's message must name the original in resend_of")


@dataclass(frozen=True, slots=True)
class ResendRecord:
    """One stored resend: the new message, the original, who, when, why and how."""

    message_id: str
    original_id: str
    at: datetime
    actor: str
    reason: str
    mode: str
    destination_id: str
    control_id: str
    status: str
    job_id: str | None


@dataclass(frozen=True, slots=True)
class ResendLink:
    """One message of a resend family: where it stands, and which message it resends.

    Enough to tell whether a dead letter was settled by a later resend, or a message already
    has a resend under way, without loading every payload of the family.
    """

    id: str
    seq: int
    resend_of: str | None
    destination_id: str
    status: str


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One delivery attempt and what the receiver answered."""

    message_id: str
    number: int
    started_at: datetime
    duration_ms: float
    outcome: str
    ack_code: str | None = None
    ack_bytes: bytes | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        AttemptOutcome(self.outcome)


@dataclass(frozen=True, slots=True)
class RejectedKeys:
    """What rejected input is found by, as far as it could be read from a body that failed
    validation (``integrator.rejected_keys``): each may be missing. Never the BSN itself."""

    zd_number: str | None = None
    provider_id: str | None = None
    bsn_hash: str | None = None  # never the BSN itself: see ``integrator.store.keyed``


@dataclass(frozen=True, slots=True)
class RejectedEventRecord:
    """Input that failed validation, kept byte for byte so support can see what arrived."""

    id: str
    received_at: datetime
    source: str
    raw: bytes
    reason: list[dict[str, str]]
    zd_number: str | None = None
    provider_id: str | None = None
    caller: str | None = None  # who sent it (``Store.reject_event``); None before 0020
    #: The keyed hash of a well-formed BSN the body held (``rejected_keys``), else None: a view
    #: of it is recorded with it, so "who looked at this patient" finds that view too.
    bsn_hash: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedSummary:
    """Rejected input as a listing shows it: ``size`` bytes as it arrived, never the bytes.

    A listing reads no body: a refused referral may carry tens of MiB of attachments (too
    large is one reason to refuse it), and two hundred of them unsealed for one page would be
    gigabytes held by the engine.
    """

    id: str
    received_at: datetime
    source: str
    size: int
    reason: list[dict[str, str]]
    zd_number: str | None = None
    provider_id: str | None = None
    caller: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedFilter:
    """Which rejected input a listing or a count takes; ``None`` means "any". The period is on
    ``received_at`` (indexed), ``since`` inclusive and ``until`` not, as for messages and events.
    ``source`` is an ``EventSource`` value: an operator watching one upstream system that
    starts to send broken input wants that channel's pieces, and how many there are. The ZD
    number, provider and BSN hash are what could be read from a body (``RejectedKeys``), each
    on an index of its own: a GP's "I sent ZD300000001" is answered by one lookup.
    """

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    zd_number: str | None = None
    provider_id: str | None = None
    bsn_hash: str | None = None  # never the BSN itself: see ``integrator.store.keyed``

    def __post_init__(self) -> None:
        if self.source is not None:
            EventSource(self.source)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who did what to which target, and why."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    reason: str | None
    details: dict[str, Any]
    hash: str = ""  # the hash chain (``integrator.store.audit_chain``)
    prev_hash: str = ""
    """The hash of the entry before (its link in the chain); exports carry it, so one row can be
    checked on its own (docs/access.md, "Checking an exported entry")."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Search terms for the audit log; ``None`` means "any". ``since`` inclusive, ``until`` not.

    ``message`` and ``destination`` match the entry's target or the id in its details (a
    resend's new message, a routing's messages and destinations, the retries a try-now moved);
    ``bsn_hash`` matches entries whose details carry it (patient-data views) and entries about
    that patient's events and messages.
    """

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    message: str | None = None
    destination: str | None = None
    bsn_hash: str | None = None  # never the BSN itself: see ``integrator.store.keyed``
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditAnchor:
    """Where the audit chain starts once its oldest entries were pruned: the id (``seq``) and
    hash of the newest entry pruned, and when it was pruned."""

    seq: int
    hash: str
    pruned_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "pruned_at": self.pruned_at.isoformat()}


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """What ``Store.verify_audit`` found: ``broken_id`` is None when the chain is intact.

    ``starts_after``: the chain was checked from this anchor (entries up to its ``seq`` were
    pruned); None: from the genesis hash.
    """

    checked: int
    last_id: int | None
    last_hash: str | None
    broken_id: int | None = None
    problem: str | None = None
    starts_after: AuditAnchor | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Search terms for messages; ``None`` means "any". ``since`` is inclusive, ``until`` not."""

    zd_number: str | None = None
    event_id: str | None = None
    destination_id: str | None = None
    status: str | None = None
    version: str | None = None
    control_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    event_type: str | None = None
    bsn_hash: str | None = None  # never the BSN itself: see ``integrator.store.keyed``
    originals_only: bool = False  # leave out resends (a batch resend selects originals)
    statuses: tuple[str, ...] | None = None  # any of these; combined with ``status`` by AND
    # A period on ``updated_at``, the last change of status (a dead letter's: when it died);
    # ``since``/``until`` are on the creation time. Inclusive and exclusive alike.
    changed_since: datetime | None = None
    changed_until: datetime | None = None
    # Only messages for these destinations (the clusters an identity may see); None: no such
    # limit. A scope, not a search term: it never makes a filter select anything by itself.
    destination_ids: frozenset[str] | None = None
    # Leave out those a later member of their resend family settled by being delivered: a dead
    # letter's "resolved" (deadletter.family), read in SQL so the resolved history is not read.
    unresolved_only: bool = False

    @property
    def selects(self) -> bool:
        """Whether any search term is given (the scope of ``destination_ids`` is none)."""
        return dataclasses.replace(self, destination_ids=None) != MessageFilter()
