"""Reading and discarding dead letters through the store interface.

Nothing here keeps state of its own: a dead letter *is* a message with status ``dead``, its
attempts and its ``last_error``, so the store stays the one place to look. It stays ``dead`` for
good (its history is true); whether it still needs support is read from its resend family: once
a later resend was delivered it is *resolved* (``deadletter.family``) and listings leave it out
unless asked. Errors are part of the engine's tree (``PermanentError``, exit code 2): each one
means the operator asked for something that cannot be done as asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from deadletter.family import OPEN, Families, Resolution
from integrator.errors import PermanentError
from integrator.presenters import shown_time
from integrator.store import AttemptRecord, AuditFilter, MessageFilter, MessageRecord, Store

DISCARD_ACTION = "deadletter.discard"


PAGE = 500
"""Dead messages read per step while looking for unresolved ones."""


class DeadLetterError(PermanentError):
    exit_code = 2


class UnknownDeadLetter(DeadLetterError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"no message with id {message_id}")
        self.coded("message.unknown", id=message_id)


class NotADeadLetter(DeadLetterError):
    def __init__(self, message_id: str, status: str) -> None:
        super().__init__(f"message {message_id} is {status}, not dead")
        self.coded("deadletter.not_dead", id=message_id, status=status)


class AlreadyResolved(DeadLetterError):
    """A discard of a dead letter that needs none any more: it was discarded already, or a
    later resend of it was delivered. Nothing is changed.

    Not bad input (the id is right; the letter moved on since it was looked at), so exit code 1
    like a resend that skips what it was asked for; the API answers 409. ``how`` says which
    (``discarded`` or ``delivered``), ``by`` who discarded it or the resend that got through,
    ``at`` when, where the store still knows (an audit entry pruned by retention takes it).
    ``explain(zone)`` gives the text with the time in a zone (the CLI's
    ``INTEGRATOR_TIMEZONE``); ``str()`` gives it in UTC.
    """

    exit_code = 1

    def __init__(self, message_id: str, how: str, by: str | None, at: datetime | None) -> None:
        self.message_id = message_id
        self.how = how
        self.by = by
        self.at = at
        super().__init__(self.explain(None))
        if how == "delivered":
            self.coded("deadletter.resolved_delivered", id=message_id, by=by or "")
        else:
            self.coded("deadletter.resolved_discarded", id=message_id, by=by or "?")

    def explain(self, zone: tzinfo | None) -> str:
        when = f" at {shown_time(self.at, zone)}" if self.at is not None else ""
        if self.how == "delivered":
            done = f"its resend {self.by} was delivered{when}"
        else:
            done = "discarded" + (f" by {self.by}" if self.by else "") + when
        return f"dead letter {self.message_id} was already resolved: {done}; nothing was changed"


class MissingReason(DeadLetterError):
    def __init__(self) -> None:
        super().__init__("a reason is required (it goes into the audit log)")
        self.coded("reason.required")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead message with its history; ``reason`` is the last error the worker recorded."""

    message: MessageRecord
    attempts: tuple[AttemptRecord, ...]
    resolution: Resolution = OPEN

    @property
    def resolved(self) -> bool:
        return self.resolution.state == "resolved"

    @property
    def reason(self) -> str | None:
        return self.message.last_error

    @property
    def last_attempt(self) -> AttemptRecord | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def last_ack(self) -> AttemptRecord | None:
        """The last attempt that got an answer at all (its ACK code and bytes)."""
        for attempt in reversed(self.attempts):
            if attempt.ack_bytes is not None:
                return attempt
        return None


async def list_dead_letters(
    store: Store,
    *,
    destination_id: str | None = None,
    limit: int = 100,
    include_resolved: bool = False,
    destination_ids: frozenset[str] | None = None,
    died_since: datetime | None = None,
    died_until: datetime | None = None,
) -> list[DeadLetter]:
    """Dead letters, newest first; the resolved ones only with ``include_resolved``.

    Read page by page, so ``limit`` counts the letters shown, not the dead messages read: a
    hundred resolved letters must not hide an older one that still needs support.
    ``destination_ids`` limits them to those destinations (None: all). ``died_since`` and
    ``died_until`` (UTC; inclusive, exclusive) are a period on when each died: the message's
    last change of status (``dead_since`` in the listings), which nothing changes after.
    """
    flt = MessageFilter(
        status="dead",
        destination_id=destination_id,
        destination_ids=destination_ids,
        changed_since=died_since,
        changed_until=died_until,
    )
    found: list[tuple[MessageRecord, Resolution]] = []
    offset = 0
    page = max(limit, PAGE)
    while len(found) < limit:
        batch = await store.list_messages(flt, limit=page, offset=offset)
        families = await Families.load(store, [m.id for m in batch])
        for message in batch:
            resolution = families.resolution(message.id)
            if include_resolved or resolution.state != "resolved":
                found.append((message, resolution))
        if len(batch) < page:
            break
        offset += page
    return [
        DeadLetter(message, tuple(await store.list_attempts(message.id)), resolution)
        for message, resolution in found[:limit]
    ]


async def get_dead_letter(store: Store, message_id: str) -> DeadLetter:
    """One dead letter, resolved or not."""
    message = await store.get_message(message_id)
    if message is None:
        raise UnknownDeadLetter(message_id)
    if message.status != "dead":
        raise NotADeadLetter(message_id, message.status)
    families = await Families.load(store, [message_id])
    return DeadLetter(
        message, tuple(await store.list_attempts(message_id)), families.resolution(message_id)
    )


async def discard(
    store: Store, message_id: str, *, actor: str, reason: str, source: str | None = None
) -> DeadLetter:
    """Close a dead letter as ``cancelled``: audited, its attempts and last error kept.

    The status change and its audit entry are written in one transaction: neither without the
    other. ``source``: the client's address, when the request came through the API.

    One that was resolved already (discarded before, or a later resend of it delivered) is
    refused with ``AlreadyResolved``, saying how and when: the one service the CLI, the API and
    the console call, so each says the same.
    """
    reason = reason.strip()
    if not reason:
        raise MissingReason()
    message = await store.get_message(message_id)
    if message is not None and message.status == "cancelled":
        raise await _discarded_before(store, message)
    letter = await get_dead_letter(store, message_id)
    if letter.resolved and letter.resolution.resolved_by is not None:
        raise await _delivered_since(store, message_id, letter.resolution.resolved_by)
    message = letter.message
    await store.set_status_audited(
        [message_id],
        "cancelled",
        last_error=message.last_error,
        actor=actor,
        action=DISCARD_ACTION,
        target=message_id,
        reason=reason,
        details={
            "destination": message.destination_id,
            "control_id": message.control_id,
            "attempts": message.attempt_count,
            "last_error": message.last_error,
            **({"source": source} if source is not None else {}),
        },
    )
    return letter


async def _discarded_before(store: Store, message: MessageRecord) -> AlreadyResolved:
    """Who discarded it and when, from its audit entry; the status change itself is the
    message's last one, so its ``updated_at`` says when if the entry was pruned since."""
    entries = await store.list_audit(AuditFilter(action=DISCARD_ACTION, target=message.id), limit=1)
    if entries:
        return AlreadyResolved(message.id, "discarded", entries[0].actor, entries[0].at)
    return AlreadyResolved(message.id, "discarded", None, message.updated_at)


async def _delivered_since(store: Store, message_id: str, resend_id: str) -> AlreadyResolved:
    """When the resend that resolved it was delivered: its last attempt's start."""
    attempts = await store.list_attempts(resend_id)
    delivered = [a.started_at for a in attempts if a.outcome == "delivered"]
    return AlreadyResolved(message_id, "delivered", resend_id, delivered[-1] if delivered else None)
