"""A resend confirmed on what the person saw: only if no other resend of the message was made
since.

Two colleagues called by the same GP each open the message, see it was not resent, and
confirm: both read "no resend since" before either wrote, so the referral went out twice.
The caller now says which resend was the newest it saw (``""``: none), and the check is made
at the resend's commit (``Store.add_resends``' guards: the store's writers' turn, so across
engine processes too), on the resends the caller may see (``messages.read``, as a message's
page and the API list them). When another was made since, nothing is sent, and the refusal
names it (``ResentSince``): the caller shows it and may confirm again on what it sees now.
"""

from __future__ import annotations

from collections.abc import Sequence

from deadletter import ResendRefused, ResendResult
from integrator.access.permissions import Identity, Permission
from integrator.catalog import Catalog
from integrator.clusters import ClusterScope
from integrator.refusal import Note, code_of
from integrator.store import ResendGuard, ResendRecord

CODES = frozenset({"resend.skip.resent_since", "resend.skip.resends_changed"})
"""The codes of ``newest_seen``'s notes."""


def newest_seen(catalog: Catalog, identity: Identity, expected: str) -> ResendGuard:
    """The check at the commit: the newest resend ``identity`` may see is still ``expected``
    (a message id; ``""``: there was none), else a note naming the newest one now."""
    readable = ClusterScope(identity, Permission.MESSAGES_READ)

    def check(made: Sequence[ResendRecord]) -> Note | None:
        seen = [r for r in made if readable.allows_destination(catalog, r.destination_id)]
        newest = seen[-1].message_id if seen else ""
        if newest == expected:
            return None
        if not newest:  # the one seen is gone (retention), none made since
            return Note(
                "its resends changed since they were shown; not resent",
                "resend.skip.resends_changed",
            )
        return Note(
            f"resent since as {newest}; not resent again (look at that resend first)",
            "resend.skip.resent_since",
            id=newest,
        )

    return check


class ResentSince(ResendRefused):
    """Not resent: another resend of the message (``newest``, ``""`` if none is left) was made
    after the one the caller saw. Nothing was sent; confirmed again on it, it resends."""

    def __init__(self, result: ResendResult) -> None:
        super().__init__(result.note or "resent since")
        code, values = code_of(result.note)
        self.newest = str(values.get("id", ""))
        if code is not None:
            self.coded(code, **values)


def resent_since(result: ResendResult) -> bool:
    """Whether ``result`` was left out by ``newest_seen``'s check."""
    code, _ = code_of(result.note)
    return code in CODES
