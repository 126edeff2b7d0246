"""Why a resend to a destination was left out, said once for the two places that decide it.

The plan (``deadletter.resend``) skips a resend to a destination the engine does not have
configured; the store (``Store.add_resends``) skips one to a destination removed after it was
planned, in the transaction that would have stored it. People read the same note either way
(the console words it by its code), so one function makes it.
"""

from __future__ import annotations

from integrator.refusal import Note


def destination_not_configured(destination_id: str) -> Note:
    """``resend.skip.destination_unknown``: the resend's destination is not configured."""
    return Note(
        f"destination {destination_id} is not configured",
        "resend.skip.destination_unknown",
        destination=destination_id,
    )
