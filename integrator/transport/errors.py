"""Transport errors, in the engine's tree: the broker being away is something to retry.

aiormq, pamqp and socket errors are mapped to these where they are raised, so callers (intake,
engine, HTTP API) never see a foreign exception type or its text.
"""

from __future__ import annotations

from integrator.errors import RetryableError


class TransportError(RetryableError):
    """The transport could not do what was asked; the store still holds the work."""


class TransportUnavailable(TransportError):
    """No broker connection (or it broke mid-way); what was committed is re-published later."""


class PublishRefused(TransportError):
    """The broker answered a publish with a nack: it did not take responsibility for it."""
