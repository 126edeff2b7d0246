"""What a recorded attempt may change of a message a person closed while it was on the wire.

An attempt is recorded after it ends, in a batch, while people act on the store meanwhile: a
destination removed with ``--force`` from another process makes its waiting messages dead
letters, and a discard closes a dead letter as ``cancelled``. The attempt's record comes after
and used to set the message's status back to ``retrying`` (or ``dead`` with its own error),
undoing the person's change: a discarded letter counted as waiting again, a removal's reason
overwritten.

The rule, applied inside the recording statement on both dialects so that no read can come
between: an attempt sets its message's ``status``, ``next_attempt_at`` and ``last_error`` only
while the message is still waiting for delivery (``queued``, ``sending``, ``retrying``), or when
the attempt delivered it (then it did reach the hospital, and saying ``dead`` or ``cancelled``
would invite a resend of a message that arrived). ``attempt_count`` and ``updated_at`` follow
every attempt, and the attempt's own row is always inserted: the history says what happened.
"""

from __future__ import annotations

from integrator.store.records import PENDING_STATUSES, MessageStatus

GUARDED_COLUMNS = ("status", "next_attempt_at", "last_error")
"""The message's columns a late attempt leaves as a person set them."""

_WAITING = ", ".join(f"'{status.value}'" for status in PENDING_STATUSES)


def still_open(current_status: str, new_status: str) -> str:
    """SQL that is true when an attempt may set the guarded columns: ``current_status`` is the
    message's status column as the statement names it, ``new_status`` the attempt's value."""
    return f"({current_status} IN ({_WAITING}) OR {new_status} = '{MessageStatus.DELIVERED.value}')"
