"""How long (or large) the access service lets what people type be: one source for every front
door.

The service refuses longer values itself (``AccessService``: ``access.email_invalid``,
``access.name_too_long``, ``access.token_name``, ``reason.too_long``); the API's bodies
(``integrator.http.access_bodies``) and the console's admin forms (their ``maxlength``,
``integrator.console.form_limits``) take their bounds from here, so that a form never lets a
person type what the service then refuses, as the invitation's name field once did (320
characters against the service's 200).
"""

from __future__ import annotations

from typing import Final

from destinations.ids import MAX_CLUSTER
from integrator.reasons import MAX_REASON

MAX_EMAIL_LENGTH: Final = 121
"""An e-mail address: what the audit trail can name. It records a person as ``person:<address>``
in its ``actor`` columns (``integrator.store.tables``: 128 characters), and PostgreSQL refuses a
longer value where SQLite keeps it: an unknown 300-character address at the sign-in form was a
500 there and its failed sign-in went unaudited, and an invitation of a 130-character address
was made, then every attempt to accept it failed. RFC 5321 allows 320 (254 in practice); real
addresses are far shorter than 121."""
MAX_NAME_LENGTH: Final = 200
"""A person's display name, as the audit trail and the people list show it."""
MAX_TOKEN_NAME_LENGTH: Final = 100
"""An API token's name, recorded as ``token:<name>`` in the audit trail."""
MAX_TOKEN_DAYS: Final = 730
"""The most days an API token is valid for: every token expires, as one that never does is the
one that leaks and works for ever (``AccessSettings.token_max_validity``)."""
MAX_CLUSTER_LENGTH: Final = MAX_CLUSTER
"""A grant's cluster: one a destination is in (the service refuses any other), and a
destination's cluster is at most this long."""

__all__ = [
    "MAX_CLUSTER_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_REASON",
    "MAX_TOKEN_DAYS",
    "MAX_TOKEN_NAME_LENGTH",
]
