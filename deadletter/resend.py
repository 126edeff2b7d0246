"""Resending messages ("herzenden berichten"): one, a filtered batch, or dead letters.

A resend is a NEW message row linked to the message it resends (``resend_of``), so the
original's status, attempts and ACKs stay exactly as they were, and the resend gets its own.
It is stored as ``queued`` and goes through the normal delivery path (queue, retries, ACK
checks). The new row, its ``resends`` row (who, why, how) and its audit entry are written in one
transaction (``Store.add_resends``).

Modes:

- ``original``: the same bytes, so the same MSH-10: a receiver that did get the first copy can
  recognise the duplicate. Works for a version that has been retired since (nothing is mapped).
- ``remap``: the stored event is mapped again with the destination's *current* message version
  and a new MSH-10. A retired version goes to its successor (a resend is a deliberate act, so it
  is never held, even without ``auto_upgrade``).

``to`` sends to another destination. The original bytes carry the first destination's MSH-5/6,
so another destination always gets a remap; asking for ``original`` there is refused.

Which messages can be resent: those that are finished (delivered, dead, cancelled). Messages
still in delivery (queued, sending, retrying) or held (never sent, no bytes) are skipped with a
note, so a batch never doubles work the engine is still doing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deadletter.letters import DeadLetterError, MissingReason
from integrator.ids import new_message_id
from integrator.store import (
    MessageFilter,
    MessageRecord,
    NewMessage,
    NewResend,
    ResendMode,
    Store,
)

RESENDABLE_STATUSES = ("delivered", "dead", "cancelled")
CHUNK = 200
"""Resends per transaction: large enough for speed, small enough for a live progress bar."""
MAX_BATCH = 100_000


class ResendRefused(DeadLetterError):
    """The request cannot be done as asked (exit code 2, HTTP 422)."""


class NoSelector(ResendRefused):
    def __init__(self) -> None:
        super().__init__(
            "say which messages: message ids, or at least one of --zd, --destination, "
            "--status, --version, --since, --until"
        )


class UnknownMessageId(ResendRefused):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"no message with id {message_id}")
        self.message_id = message_id


class Renderer(Protocol):
    """What resending needs from the engine: its destinations and its mapping."""

    def is_configured(self, destination_id: str) -> bool: ...

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        """A new message for ``destination_id`` from the original's stored event (new id and
        MSH-10, ``resend_of`` not yet set); or why it cannot be made."""
        ...


@dataclass(frozen=True)
class ResendRequest:
    reason: str
    actor: str
    mode: str | None = None  # None: original, or remap when ``to`` is another destination
    to: str | None = None
    job_id: str | None = None

    def checked(self) -> ResendRequest:
        """The request with a trimmed reason; raises ``ResendRefused`` for what is never valid."""
        reason = (self.reason or "").strip()
        if not reason:
            raise MissingReason()
        if self.mode is not None and self.mode not in {m.value for m in ResendMode}:
            raise ResendRefused(f"--mode must be original or remap, not {self.mode!r}")
        actor = (self.actor or "").strip()[:128] or "unknown"
        return dataclasses.replace(self, reason=reason, actor=actor)

    def mode_for(self, original: MessageRecord) -> str:
        if self.to is not None and self.to != original.destination_id:
            if self.mode == ResendMode.ORIGINAL:
                raise ResendRefused(
                    f"message {original.id} was made for {original.destination_id} (MSH-5/6); "
                    f"to send it to {self.to} use --mode remap"
                )
            return ResendMode.REMAP.value
        return self.mode or ResendMode.ORIGINAL.value


@dataclass(frozen=True)
class ResendResult:
    """What happened to one selected message: resent (a new message id) or skipped (a note)."""

    original: MessageRecord
    mode: str
    destination_id: str
    message: NewMessage | None = None
    note: str | None = None

    @property
    def resent(self) -> bool:
        return self.message is not None

    def to_json(self) -> dict[str, Any]:
        m = self.message
        return {
            "original_id": self.original.id,
            "zd_number": self.original.zd_number,
            "resent": self.resent,
            "message_id": m.id if m else None,
            "destination": self.destination_id,
            "mode": self.mode,
            "version": m.version if m else self.original.version,
            "control_id": m.control_id if m else None,
            "note": self.note,
        }


async def select_for_resend(
    store: Store,
    *,
    message_ids: Sequence[str] = (),
    flt: MessageFilter | None = None,
    limit: int = MAX_BATCH,
) -> list[MessageRecord]:
    """The messages a resend is about, oldest first.

    Ids are taken as given (an unknown one refuses the whole request). A filter selects
    originals only: resending "everything for ZD…" must not also resend earlier resends.
    """
    if not message_ids and (flt is None or flt == MessageFilter()):
        raise NoSelector()
    selected: dict[str, MessageRecord] = {}
    for message_id in message_ids:
        message = await store.get_message(message_id)
        if message is None:
            raise UnknownMessageId(message_id)
        selected[message.id] = message
    if flt is not None and flt != MessageFilter():
        found = await store.list_messages(
            dataclasses.replace(flt, originals_only=True), limit=limit
        )
        for message in found:
            selected.setdefault(message.id, message)
    return sorted(selected.values(), key=lambda m: m.seq)


async def resend(
    store: Store,
    originals: Sequence[MessageRecord],
    request: ResendRequest,
    renderer: Renderer,
    *,
    progress: Callable[[int], None] | None = None,
    explicit_ids: Collection[str] | None = None,
) -> list[ResendResult]:
    """Resend each message as asked; ``progress(done)`` after every stored chunk.

    Refuses the whole request (``ResendRefused``) for a bad reason, mode or target; skips, with
    a note, single messages that cannot be resent. ``explicit_ids``: when given, the messages
    NOT among them came from a filter, and those that already have a live resend (not dead or
    cancelled) are skipped, so running the same batch twice does not send twice. Named ids are
    always resent.
    """
    request = request.checked()
    if request.to is not None and not renderer.is_configured(request.to):
        raise ResendRefused(f"destination {request.to} is not configured")
    modes = [request.mode_for(m) for m in originals]  # refuses before anything is written
    already: dict[str, str] = {}
    if explicit_ids is not None:
        already = await store.live_resends([m.id for m in originals if m.id not in explicit_ids])
    results: list[ResendResult] = []
    done = 0
    for start in range(0, len(originals), CHUNK):
        chunk = list(
            zip(originals[start : start + CHUNK], modes[start : start + CHUNK], strict=True)
        )
        planned = [
            await _plan(original, mode, request, renderer, already.get(original.id))
            for original, mode in chunk
        ]
        await store.add_resends(
            [
                NewResend(
                    original=r.original,
                    message=r.message,
                    mode=r.mode,
                    actor=request.actor,
                    reason=request.reason,
                    job_id=request.job_id,
                )
                for r in planned
                if r.message is not None
            ]
        )
        results.extend(planned)
        done += len(chunk)
        if progress is not None:
            progress(done)
    return results


async def _plan(
    original: MessageRecord,
    mode: str,
    request: ResendRequest,
    renderer: Renderer,
    live_resend: str | None,
) -> ResendResult:
    destination = request.to or original.destination_id

    def skip(note: str) -> ResendResult:
        return ResendResult(original, mode, destination, note=note)

    if original.status not in RESENDABLE_STATUSES:
        if original.status == "held":
            return skip("held: it was never sent; it goes out when its destination is moved")
        return skip(f"still being delivered ({original.status}); not resent")
    if live_resend is not None:
        return skip(f"already resent as {live_resend}; name its id to resend it again")
    if not renderer.is_configured(destination):
        return skip(f"destination {destination} is not configured")
    if mode == ResendMode.ORIGINAL:
        if not original.payload:
            return skip("no stored bytes to resend; use --mode remap")
        message = NewMessage(
            id=new_message_id(),
            destination_id=destination,
            version=original.version,
            message_type=original.message_type,
            control_id=original.control_id,
            payload=original.payload,
            resend_of=original.id,
        )
        return ResendResult(original, mode, destination, message=message)
    remapped = await renderer.remap(original, destination)
    if isinstance(remapped, str):
        return skip(remapped)
    return ResendResult(
        original, mode, destination, message=dataclasses.replace(remapped, resend_of=original.id)
    )
