"""Transports move work between the intake and the delivery workers; the store keeps the truth.

One interface (``Transport``), two implementations: ``EmbeddedTransport`` (in-process queues, the
default, so nothing needs installing) and, with ``INTEGRATOR_AMQP_URL``, ``RabbitMQTransport``.
``create_transport`` picks one from the settings.
"""

from integrator.transport.base import Delivery, Transport
from integrator.transport.embedded import EmbeddedTransport
from integrator.transport.errors import PublishRefused, TransportError, TransportUnavailable

__all__ = [
    "Delivery",
    "EmbeddedTransport",
    "PublishRefused",
    "Transport",
    "TransportError",
    "TransportUnavailable",
    "create_transport",
]


def __getattr__(name: str) -> object:
    # Imported lazily: the RabbitMQ side pulls in aiormq, which the embedded default never needs.
    if name == "create_transport":
        from integrator.transport.factory import create_transport

        return create_transport
    raise AttributeError(name)
