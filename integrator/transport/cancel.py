"""The broker cancelling a consumer (``basic.cancel``): its queue is declared and consumed again.

RabbitMQ cancels a consumer when its queue is deleted (``rabbitmqctl delete_queue``, a policy, a
tool). The channel stays open and the connection up, so nothing else notices: the engine looks
connected and ready while that consumer gets nothing more until a restart, and publishes to the
queue's exchange are confirmed by the broker and dropped (no queue bound). This is the one
answer both kinds of consumer use (a destination's delivery queue in ``rabbitmq.py``, the intake
queue in ``amqp_intake.py``): log an error, remember that the consumer is not consuming (for
readiness and ``integrator_transport_up``), and declare the queue and its binding again and
consume it on the *same* channel, so deliveries still held there keep their ack window, backing
off while that fails. A declare the broker refuses closes the channel, and ``AmqpLink.watch``
reconnects, which starts every consumer afresh anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiormq.abc import AbstractChannel

from integrator.logging import get_logger
from integrator.transport.errors import TransportUnavailable
from integrator.transport.link import BROKER_ERRORS

log = get_logger("integrator.transport.cancel")

#: Backoff between tries to consume a queue again after the broker cancelled its consumer.
CONSUME_AGAIN_MIN_S = 0.2
CONSUME_AGAIN_MAX_S = 5.0

_GONE: tuple[type[BaseException], ...] = (*BROKER_ERRORS, TransportUnavailable)


@dataclass(frozen=True)
class CancelLines:
    """What the log says for one kind of consumer: literal lines, so they can be searched for."""

    cancelled: str
    retrying: str
    started: str


DELIVERY = CancelLines(
    cancelled="message broker cancelled a delivery consumer; declaring its queue again",
    retrying="consuming a delivery queue again failed; retrying",
    started="delivery consumer started again",
)
INTAKE = CancelLines(
    cancelled="message broker cancelled the intake consumer; declaring its queue again",
    retrying="consuming the intake queue again failed; retrying",
    started="intake consumer started again",
)


class ConsumeAgain:
    """One consumer's answer to the broker's ``basic.cancel``.

    ``cancelled`` is true from the cancel until the queue is consumed again; the owner clears it
    too when it starts the consumer afresh (a reconnect). ``lock`` is held while consuming again;
    the owner takes it when it starts the consumer, so the two never subscribe at once.
    """

    def __init__(
        self,
        lines: CancelLines,
        spawn: Callable[[Awaitable[None]], None],
        **fields: str,
    ) -> None:
        self.lock = asyncio.Lock()
        self.cancelled = False
        self._lines = lines
        self._spawn = spawn
        self._fields = fields

    def watch(
        self,
        channel: AbstractChannel,
        *,
        current: Callable[[], bool],
        subscribe: Callable[[], Awaitable[None]],
    ) -> None:
        """Answer a cancel of the consumer on ``channel``.

        ``current``: whether ``channel`` is still this consumer's (not replaced by a reconnect,
        not released or stopped); a cancel or a retry for an old channel does nothing.
        ``subscribe``: declare the queue and its binding (as at start) and consume it on
        ``channel``.
        """

        def on_cancel(_frame: object) -> None:
            if not current():
                return
            self.cancelled = True
            log.error(self._lines.cancelled, **self._fields)
            self._spawn(self._again(current, subscribe))

        channel.on_consumer_cancel_callbacks.add(on_cancel)

    async def _again(
        self, current: Callable[[], bool], subscribe: Callable[[], Awaitable[None]]
    ) -> None:
        backoff = CONSUME_AGAIN_MIN_S
        while True:
            async with self.lock:
                if not current():
                    return
                try:
                    await subscribe()
                except _GONE as exc:
                    log.warning(
                        self._lines.retrying,
                        **self._fields,
                        error_type=type(exc).__name__,
                        retry_in_s=round(backoff, 2),
                    )
                else:
                    self.cancelled = False
                    log.info(self._lines.started, **self._fields)
                    return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, CONSUME_AGAIN_MAX_S)
