"""Choose the transport from the settings: embedded by default, RabbitMQ with an AMQP URL."""

from __future__ import annotations

from integrator.settings import Settings
from integrator.transport.base import Transport
from integrator.transport.embedded import EmbeddedTransport
from integrator.transport.rabbitmq import RabbitMQTransport


def create_transport(settings: Settings) -> Transport:
    """A transport that is not connected yet; ``RabbitMQTransport.start`` connects."""
    if settings.amqp_url:
        return RabbitMQTransport(settings.amqp_url, prefix=settings.amqp_prefix)
    return EmbeddedTransport()
