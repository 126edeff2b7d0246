"""A destination's last delivery attempt: why it is not delivering, if it is not.

The newest attempt of the newest message the receiver was asked for (delivered, dead,
retrying, cancelled as a discarded dead letter is, or held or queued again after it was tried;
with an attempt: a message a forced
removal made dead before it was tried is passed over, or it would hide the last attempt
there was): when, what came of it, and why it failed,
as ``short_reason`` words it (the engine's own words, or a negative ACK by its code: never the
receiver's text, which can name the patient, and which only a message's own detail shows).
Delivery is in order per destination, so that message is the one delivery last tried. With
``ordering: rotate`` a later message delivered past a retrying one is newer, and "last attempt:
delivered" would hide the one that keeps failing: so the messages still retrying that the last
attempt is not of are said beside it (``Retrying``: how many, since when the oldest was made,
and that one's last attempt), from the same read. Read from the attempts the store records, not
from the delivery worker's memory: the console and the CLI may run in another process than
delivery.

The same attempt on every front door: the dashboard's tile (from the attempts its "last ACK"
reads already), the destination's page, ``integrator destinations show`` and the API's answer
about one destination (``DestinationAdmin.last_attempt``), and beside each destination in the
listings of ``destinations list``, ``GET /api/v1/destinations`` and the console's destinations
page (``DestinationAdmin.listing``), from one statement for every destination listed
(``Store.last_attempts``), not a read or two per destination.

Who is shown the reason (``LastAttempt.reason_for``, the one rule every door applies): the
engine's own words (connection refused, timed out, a TLS handshake failure, an answer that is
no ACK) to anyone who may see the destination, since they name no patient and are what an
operator with the ``destinations`` role needs to fix it; a negative ACK, even by its code, only
to who may read the messages of the destination's cluster (``messages.read``), as the messages
listing shows ``last_error``: what the receiver said of a message is that message's fact
(``ack_reason.from_receiver`` draws that line). Anyone else is told when and what came of it,
and the ACK's code, as the attempt's ``ack_code``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from integrator.ack_reason import from_receiver, short_reason
from integrator.presenters import iso_time
from integrator.store import AttemptRecord, Store
from integrator.store.last_attempts import DestinationAttempts


@dataclass(frozen=True, slots=True)
class Retrying:
    """The destination's messages still retrying, when its last attempt does not speak of
    them: how many, when the oldest was made and that one's own last attempt (None: it has
    none, which no delivery leaves)."""

    count: int
    since: datetime
    attempt: LastAttempt | None

    def to_json(self, *, reads_messages: bool, zone: tzinfo | None = None) -> dict[str, Any]:
        """``count``, ``since`` and the oldest's last attempt (``at``, ``outcome``,
        ``ack_code``, ``reason``; null without one) as ``LastAttempt.to_json`` gives it."""
        said = None
        if self.attempt is not None:
            said = self.attempt.to_json(reads_messages=reads_messages, zone=zone)
            del said["retrying"]  # its own: always null
        return {"count": self.count, "since": iso_time(self.since, zone), "last_attempt": said}


@dataclass(frozen=True, slots=True)
class LastAttempt:
    """A destination's last delivery attempt: when, what came of it and, when it failed, why.

    ``reason`` is ``short_reason``'s: the engine's own words, or a negative ACK by its code
    (``ACK AE (receiver's text withheld)``); ``from_receiver``: the latter, a message's fact.
    Shown as ``reason_for`` says. ``retrying``: the messages still retrying that this attempt
    is not of (``Retrying``), None when there are none.
    """

    at: datetime
    outcome: str  # AttemptOutcome: delivered, retry, deadletter or failed
    ack_code: str | None
    reason: str | None
    from_receiver: bool = False
    retrying: Retrying | None = None

    def reason_for(self, reads_messages: bool) -> str | None:
        """The reason as shown to one who may (``reads_messages``) or may not read the
        messages of the destination's cluster: the engine's own words to both, a negative
        ACK only to the first (module docstring)."""
        return self.reason if reads_messages or not self.from_receiver else None

    def to_json(self, *, reads_messages: bool, zone: tzinfo | None = None) -> dict[str, Any]:
        """As ``destinations show --json`` and the API give it (``at`` in ISO 8601, in
        ``zone`` as ``paused_at`` beside it); ``reason`` as ``reason_for`` says, else null;
        ``retrying`` as ``Retrying.to_json`` gives it, or null."""
        return {
            "at": iso_time(self.at, zone),
            "outcome": self.outcome,
            "ack_code": self.ack_code,
            "reason": self.reason_for(reads_messages),
            "retrying": self.retrying.to_json(reads_messages=reads_messages, zone=zone)
            if self.retrying is not None
            else None,
        }


async def last_attempt(store: Store, destination_id: str) -> LastAttempt | None:
    """The destination's last delivery attempt (``LastAttempt``); None before its first."""
    return (await last_attempts(store, [destination_id])).get(destination_id)


async def last_attempts(store: Store, destination_ids: Sequence[str]) -> dict[str, LastAttempt]:
    """The last delivery attempt of each of ``destination_ids`` that has one, with its
    messages still retrying, from one read for them all (``Store.last_attempts``): what the
    listings of ``destinations list``, the API and the console say beside each destination."""
    found = await store.last_attempts(destination_ids)
    shown = {destination_id: _said(attempts) for destination_id, attempts in found.items()}
    return {destination_id: attempt for destination_id, attempt in shown.items() if attempt}


def _said(found: DestinationAttempts) -> LastAttempt | None:
    """``found`` as a ``LastAttempt``: the oldest retrying message said beside the last
    attempt unless that attempt is its own (then it says it already, and no other message
    retries: every other retrying message would be newer, so its attempt the last)."""
    if found.last is None:
        return None
    oldest = found.oldest_retrying
    if oldest is None or oldest[0] == found.last.message_id:
        return said(found.last)
    _message_id, since, attempt = oldest
    retrying = Retrying(found.retrying, since, said(attempt) if attempt is not None else None)
    return dataclasses.replace(said(found.last), retrying=retrying)


def said(attempt: AttemptRecord) -> LastAttempt:
    """``attempt`` as a destination's last: its error cut to ``short_reason``'s and judged by
    ``from_receiver``."""
    return LastAttempt(
        attempt.started_at,
        attempt.outcome,
        attempt.ack_code,
        short_reason(attempt.error),
        from_receiver=from_receiver(attempt.error),
    )
