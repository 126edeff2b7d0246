"""Names and arguments of every exchange and queue, derived from one prefix.

Kept apart from the connection code so that docs, tests and the benchmark agree on the names,
and so a test can run in its own namespace (``integrator.test.<hex>``) and delete it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiormq

#: Content types of the two message kinds we carry.
EVENT_CONTENT_TYPE = "application/json"
HL7_CONTENT_TYPE = "application/hl7-v2"

#: A delivery that the broker has tried this often is dead-lettered instead of offered again,
#: so a message that crashes every engine cannot block a queue forever.
INTAKE_DELIVERY_LIMIT = 20


#: Quorum queues with single active consumer and delivery limits need this broker version.
MIN_BROKER_VERSION = (3, 8)


def broker_version(server_properties: object) -> tuple[int, ...] | None:
    """The broker's version from the connection handshake, e.g. (3, 10, 8); None if unknown."""
    version = getattr(server_properties, "get", lambda _key: None)("version")
    if isinstance(version, bytes):
        version = version.decode("ascii", "replace")
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return None


@dataclass(frozen=True)
class Topology:
    prefix: str = "integrator"

    @property
    def intake_exchange(self) -> str:
        return f"{self.prefix}.intake"

    @property
    def intake_queue(self) -> str:
        return f"{self.prefix}.intake"

    @property
    def delivery_exchange(self) -> str:
        return f"{self.prefix}.delivery"

    def delivery_queue(self, destination_id: str) -> str:
        return f"{self.prefix}.delivery.{destination_id}"

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def dead_queue(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def recovery_lock(self) -> str:
        return f"{self.prefix}.recovery-lock"

    def intake_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": INTAKE_DELIVERY_LIMIT,
            "x-dead-letter-exchange": self.dead_exchange,
            "x-dead-letter-routing-key": "intake",
        }

    def delivery_arguments(self) -> dict[str, Any]:
        # No delivery limit here: a delivery message is only ever given back when an engine
        # stops or dies mid-attempt, and the store decides when it is dead, not the broker.
        return {
            "x-queue-type": "quorum",
            "x-single-active-consumer": True,
            "x-dead-letter-exchange": self.dead_exchange,
            "x-dead-letter-routing-key": "delivery",
        }

    async def declare_common(self, channel: aiormq.abc.AbstractChannel) -> None:
        """Exchanges, the intake queue and the dead-letter queue (idempotent)."""
        await channel.exchange_declare(self.dead_exchange, exchange_type="topic", durable=True)
        await channel.queue_declare(
            self.dead_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await channel.queue_bind(self.dead_queue, self.dead_exchange, routing_key="#")
        await self.declare_intake(channel)
        await channel.exchange_declare(self.delivery_exchange, exchange_type="direct", durable=True)

    async def declare_destination(
        self, channel: aiormq.abc.AbstractChannel, destination_id: str
    ) -> None:
        queue = self.delivery_queue(destination_id)
        await channel.queue_declare(queue, durable=True, arguments=self.delivery_arguments())
        await channel.queue_bind(queue, self.delivery_exchange, routing_key=destination_id)

    async def declare_intake(self, channel: aiormq.abc.AbstractChannel) -> None:
        """The intake exchange, queue and binding (idempotent): at every connect, and again
        when the broker cancelled the intake consumer because the queue was deleted."""
        await channel.exchange_declare(self.intake_exchange, exchange_type="topic", durable=True)
        await channel.queue_declare(
            self.intake_queue, durable=True, arguments=self.intake_arguments()
        )
        await channel.queue_bind(self.intake_queue, self.intake_exchange, routing_key="#")
