"""Publishing what is already committed: the store is the outbox, so a broker away is no failure.

Intake, resends, routing unrouted events and releasing held messages all commit first and then
hand the messages to delivery. Once committed, the work is done: failing the operation because
the broker is away (``TransportUnavailable``) would answer an error for stored work, and a person
or a script that tries again makes it twice (a second resend is a second referral at the
hospital). ``RabbitMQTransport`` keeps what it could not publish (its unconfirmed messages) and
publishes it after its next reconnect, and the recovery leader re-publishes whatever the store
lists as pending on each (re)connect and take-over; the embedded transport is never unavailable.
So the operation succeeds and says so, in the words of the notes below.

The broker's nack is taken the same way (the transport raises ``TransportUnavailable`` for it,
and tries what it owes again every few seconds while the connection stays up). A publish the
broker returned twice (``PublishRefused``: no queue bound) is not handled here: the transport
keeps those messages too, but it stays an error for the caller (docs/amqp.md).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from destinations.worker import OutboundMessage
from integrator.log_throttle import Clock, LogThrottle, still
from integrator.logging import get_logger
from integrator.refusal import Note
from integrator.transport.base import Transport
from integrator.transport.errors import TransportUnavailable

log = get_logger("integrator.transport.committed")

#: How every such note begins: what happened, in the same words wherever it is said.
#: The broker away, or there and refusing them (its nack): they are stored either way.
UNAVAILABLE: Final = "delivery is unavailable (the message broker is away or refuses messages)"

#: The warning of an accepted event whose messages could not be handed to delivery.
DELIVERY_AWAY: Final = Note(
    f"{UNAVAILABLE}: the event and its messages are stored and are sent when it is back; "
    "there is no need to send it again",
    "delivery.away.event",
)

#: The note of a resend that is stored but could not be handed to delivery.
RESEND_AWAY: Final = Note(
    f"{UNAVAILABLE}: the resent message is stored and is sent when it is back; there is no "
    "need to resend it again",
    "delivery.away.resend",
)

#: The note of a routed event whose new messages could not be handed to delivery.
ROUTE_AWAY: Final = Note(
    f"{UNAVAILABLE}: the messages are stored and are sent when it is back; there is no need "
    "to route the event again",
    "delivery.away.route",
)


#: The line of the operation that first met delivery away, and of one a minute after it.
AWAY_LINE: Final = (
    "messages stored but not published: delivery is unavailable; they are published when it is back"
)
STILL_AWAY_LINE: Final = (
    "messages still stored but not published: delivery is unavailable; they are published "
    "when it is back"
)
BACK_LINE: Final = "messages published again: delivery is back"


@dataclass
class _Away:
    """One transport's operations that met delivery away, for the log: an accepted event a
    line made 36,000 lines an hour at 10 events a second. Told by the first, then once a
    minute with the operations and messages since the line before, then once when an
    operation publishes again."""

    throttle: LogThrottle
    unsaid: int = 0  # messages since the last line
    total: int = 0  # messages since the first failure


_AWAY: Final[weakref.WeakKeyDictionary[Transport, _Away]] = weakref.WeakKeyDictionary()


def watch_away(transport: Transport, *, clock: Clock = time.monotonic) -> None:
    """Count ``transport``'s operations that meet delivery away on ``clock`` (a test's, to move
    a minute on), from none."""
    _AWAY[transport] = _Away(LogThrottle(first=1, clock=clock))


def _away(transport: Transport) -> _Away:
    away = _AWAY.get(transport)
    if away is None:
        away = _AWAY[transport] = _Away(LogThrottle(first=1))
    return away


async def publish_committed(
    transport: Transport,
    messages: Sequence[OutboundMessage],
    *,
    what: str,
    republish: bool = False,
    counts: Mapping[str, int] | None = None,
    written: Callable[[], None] | None = None,
) -> bool:
    """Hand committed ``messages`` to delivery; False when the transport is unavailable.

    Logged then with counts, the error's type and its words (no ids, no patient data: the
    operation's own log lines name what it did; the words say whether the broker was away or
    refused them, a nack): the first call in full, then once a minute (``_Away``).
    ``what`` names the operation (``events``, ``resend``, ``route``, ``release``, ``resume``);
    ``counts`` are its own (``{"events": 3}``).
    ``republish`` publishes as ``Transport.republish`` (what the store already listed as
    pending, which receivers check first). ``written``: as ``Transport.publish`` has it.
    """
    if not messages:
        return True
    try:
        if republish:
            await transport.republish(messages)
        elif written is None:
            await transport.publish(messages)
        else:
            await transport.publish(messages, written=written)
    except TransportUnavailable as exc:
        away = _away(transport)
        away.unsaid += len(messages)
        away.total += len(messages)
        line = away.throttle.failed()
        if line is None:
            return False
        if line.full:
            log.warning(
                AWAY_LINE,
                what=what,
                **(counts or {}),
                messages=away.unsaid,
                error_type=type(exc).__name__,
                error=str(exc),
            )
        else:
            log.warning(
                STILL_AWAY_LINE,
                **still(line),
                messages=away.unsaid,
                error_type=type(exc).__name__,
                error=str(exc),
            )
        away.unsaid = 0
        return False
    was = _AWAY.get(transport)
    if was is not None and (outage := was.throttle.ended()) is not None:
        log.info(
            BACK_LINE,
            failures=outage.failures,
            messages=was.total,
            failed_for_s=round(outage.down_for),
        )
        was.unsaid = was.total = 0
    return True
