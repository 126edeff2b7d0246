"""The transport contract.

``publish`` hands outbound messages to the delivery queue of their destination; ``receive``
returns the next one for a destination as a ``Delivery`` that the worker settles once the
outcome is recorded. A transport never decides anything about delivery; if it loses its state
(a crash of the embedded transport, a purged queue) the engine re-publishes what the store still
lists as pending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from destinations.worker import OutboundMessage


class Delivery(Protocol):
    @property
    def message(self) -> OutboundMessage: ...

    async def settle(self) -> None:
        """The outcome is recorded: the transport may forget this message."""
        ...

    def in_doubt(self) -> bool:
        """Whether the transport may have given this message to another consumer since it was
        received (its broker connection lost unnoticed: ``integrator.transport.stalls``). Asked
        before every attempt, so cheap; True means ``confirm`` before sending."""
        ...

    async def confirm(self) -> bool:
        """Whether this message is still the engine's to send, asked of the broker; False: it
        is let go (not to be sent nor settled), and the transport gives it again."""
        ...


class Transport(Protocol):
    async def publish(
        self, messages: Sequence[OutboundMessage], *, written: Callable[[], None] | None = None
    ) -> None:
        """Hand committed messages to their destinations' queues.

        ``TransportUnavailable`` means the link is down, and the transport keeps what it could
        not publish and publishes it once the link is back: intake answers such events as
        accepted (they are committed) and leaves them to that. While the transport publishes
        again what it still owes, it publishes these after those (and returns once they are
        confirmed, as always).

        ``written``, if given, is called once every message is on its way, so that nothing
        published after can reach a queue before them, and before their confirms are awaited:
        the AMQP intake then lets its next batch publish (``integrator.turnstile``). A
        transport that hands them over within the call may call it as it returns.
        """
        ...

    async def republish(self, messages: Sequence[OutboundMessage]) -> None:
        """Publish again what the store still lists as pending (recovery, a restarted runner).

        Copies may meet an original still queued; the transport must not deliver both.
        """
        ...

    async def release(self, destination_id: str) -> None:
        """This engine stops delivering to the destination (paused, removed, or its runner
        restarts with a changed definition): what it holds goes back to the queue, what it
        received and did not settle (a fifo retry waiting out its backoff) at the head, ahead
        of what queued behind it."""
        ...

    async def receive(self, destination_id: str) -> Delivery: ...

    def pending(self, destination_id: str) -> int:
        """Messages waiting for the destination (for progress and metrics)."""
        ...

    async def close(self) -> None: ...
