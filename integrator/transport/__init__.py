"""Transports move work between the intake and the delivery workers; the store keeps the truth.

One interface (``Transport``), two implementations: ``EmbeddedTransport`` (in-process queues, the
default, so nothing needs installing) and, with ``INTEGRATOR_AMQP_URL``, RabbitMQ.
"""

from integrator.transport.base import Delivery, Transport
from integrator.transport.embedded import EmbeddedTransport

__all__ = ["Delivery", "EmbeddedTransport", "Transport"]
