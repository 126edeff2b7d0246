"""A destination's last delivery attempt: why it is not delivering, if it is not.

The newest attempt of the newest message the receiver was asked for (delivered, dead or
retrying): when, what came of it, and why it failed, as ``short_reason`` words it (the engine's
own words, or a negative ACK by its code: never the receiver's text, which can name the
patient). Delivery is in order per destination, so that message is the one delivery last tried;
with ``ordering: unordered`` a later message delivered past a retrying one is newer, and is what
is said then (the receiver takes messages). Read from the attempts the store records, not from
the delivery worker's memory: the console and the CLI may run in another process than delivery.

One read for every front door: the dashboard's tile (from the attempts its "last ACK" reads
already), the destination's page, ``integrator destinations show`` and the API's answer about
one destination (``DestinationAdmin.last_attempt``). The reason is a message's fact: shown to
who may read the messages of the destination's cluster (``messages.read``), as the messages
listing shows ``last_error``; to anyone else, only when and what came of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final

from integrator.ack_reason import short_reason
from integrator.presenters import iso_time
from integrator.store import AttemptRecord, MessageFilter, Store

ANSWERED: Final = ("delivered", "dead", "retrying")
"""The statuses of a message the receiver was asked for."""


@dataclass(frozen=True, slots=True)
class LastAttempt:
    """A destination's last delivery attempt: when, what came of it and, when it failed, why.

    ``reason`` is ``short_reason``'s: the engine's own words, or a negative ACK by its code
    (``ACK AE (receiver's text withheld)``); it is a message's fact, so shown to who may read
    that cluster's messages (``messages.read``), as the messages listing shows ``last_error``.
    """

    at: datetime
    outcome: str  # AttemptOutcome: delivered, retry, deadletter or failed
    ack_code: str | None
    reason: str | None

    def to_json(self, *, reason: bool, zone: tzinfo | None = None) -> dict[str, str | None]:
        """As ``destinations show --json`` and the API give it (``at`` in ISO 8601, in
        ``zone`` as ``paused_at`` beside it); ``reason`` null unless ``reason`` (who is shown
        it may read the cluster's messages)."""
        return {
            "at": iso_time(self.at, zone),
            "outcome": self.outcome,
            "ack_code": self.ack_code,
            "reason": self.reason if reason else None,
        }


async def last_attempt(store: Store, destination_id: str) -> LastAttempt | None:
    """The destination's last delivery attempt (``LastAttempt``); None before its first."""
    return last_of(await answered_attempts(store, destination_id))


async def answered_attempts(store: Store, destination_id: str) -> list[AttemptRecord]:
    """The attempts, oldest first, of the newest message the receiver was asked for: one
    message by the ``(destination_id, status, seq)`` index, then its attempts by theirs."""
    answered = await store.list_messages(
        MessageFilter(destination_id=destination_id, statuses=ANSWERED), limit=1, payloads=False
    )
    return await store.list_attempts(answered[0].id) if answered else []


def last_of(attempts: list[AttemptRecord]) -> LastAttempt | None:
    """The last of ``attempts`` (oldest first, as ``answered_attempts`` gives them)."""
    if not attempts:
        return None
    last = attempts[-1]
    return LastAttempt(last.started_at, last.outcome, last.ack_code, short_reason(last.error))
