"""How long a reason may be: one bound for every front door.

A reason (why a message is resent, a dead letter discarded, a destination paused, a token
revoked) goes into the append-only audit trail and stays there. The API's bodies and its
``X-Integrator-Reason`` header, the console's forms and the server's command line take at most
``MAX_REASON`` characters, so that no door accepts what another refuses and nobody can fill the
audit trail with a document. The services that record a reason refuse a longer one themselves
(``deadletter.checked_reason``); the doors' own checks only say it earlier, in their own way.
"""

from __future__ import annotations

from typing import Final

MAX_REASON: Final = 1000
"""The most characters (not bytes) a reason may have."""


def too_long(reason: str) -> bool:
    """Whether ``reason``, as given, is longer than a reason may be."""
    return len(reason) > MAX_REASON
