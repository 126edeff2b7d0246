"""A broad selection the CLI made in the store, narrowed to the clusters of the token it sends.

The server's CLI reads the whole store, so ``deadletter resend --since 12h`` or ``resend
--status dead`` selects every cluster's messages; through a running engine it then sends them
with ``INTEGRATOR_TOKEN``, and the engine answers a message outside that token's clusters as
unknown (404), so the whole batch was refused, naming ids nobody typed. So before it goes, a
broad selection keeps only the messages the token may resend, and says how many it left out:
the CLI may know (it reads them all), and the engine still decides. Named ids are never left
out: a named one the token may not resend refuses the whole run, before anything is sent,
saying the token's clusters (the engine answers it as unknown, 404, not to tell a caller what
lies elsewhere, and the CLI said "no message has one of these ids": support concluded the
referral did not exist; the server's CLI reads the store and may say it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from deadletter import Selection
from integrator.access.permissions import Permission
from integrator.access.service import AccessService
from integrator.catalog import Catalog
from integrator.clock import SystemClock
from integrator.clusters import ClusterScope
from integrator.counting import counted
from integrator.engine_api import TOKEN_VARIABLE
from integrator.store import Store


@dataclass(frozen=True, slots=True)
class Narrowed:
    """The selection the token may resend, and how many broadly selected ones it may not."""

    selection: Selection
    outside: int
    token: str | None  # the token's name as the audit records it (``token:<name>``)
    named_outside: int = 0  # of the ids named, those outside the token's clusters

    def refused(self) -> str | None:
        """Why nothing is sent when a named message lies outside the token's clusters."""
        if not self.named_outside:
            return None
        one = self.named_outside == 1
        return (
            f"MESSAGE_IDS: {counted(self.named_outside, 'named message')} "
            f"{'lies' if one else 'lie'} outside the clusters of {TOKEN_VARIABLE} "
            f"({self.token}), which may not resend {'it' if one else 'them'}; nothing was "
            f"resent: a token for {'its cluster' if one else 'their clusters'} resends "
            f"{'it' if one else 'them'}"
        )

    def said(self) -> str | None:
        """What the command says on stderr when any were left out."""
        if not self.outside:
            return None
        one = self.outside == 1
        return (
            f"{self.outside} of the selected messages {'lies' if one else 'lie'} outside the "
            f"clusters of {TOKEN_VARIABLE} ({self.token}), which may not resend "
            f"{'it' if one else 'them'}: left out; a token for "
            f"{'its cluster' if one else 'their clusters'} resends {'it' if one else 'them'}"
        )


async def within_token_clusters(store: Store, catalog: Catalog, selection: Selection) -> Narrowed:
    """``selection`` without the broadly selected messages outside the token's clusters.

    Without a token, one the store does not know (expired, revoked), or one that may resend
    nowhere (no ``resend`` role), nothing is left out: the engine refuses the request itself,
    with its own words, naming the role; narrowed, every message lay "outside the token's
    clusters", which sent the person looking for a cluster where a role was missing."""
    raw = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not raw:
        return Narrowed(selection, 0, None)
    identity = await AccessService(store, SystemClock()).authenticate_token(raw)
    if identity is None or not identity.may_somewhere(Permission.MESSAGES_RESEND):
        return Narrowed(selection, 0, None)
    allowed = ClusterScope(identity, Permission.MESSAGES_RESEND).destination_ids(catalog)
    if allowed is None:
        return Narrowed(selection, 0, identity.display)
    named_outside = sum(
        1 for m in selection if selection.is_named(m) and m.destination_id not in allowed
    )
    kept = tuple(m for m in selection if selection.is_named(m) or m.destination_id in allowed)
    narrowed = replace(selection, messages=kept)
    return Narrowed(narrowed, len(selection) - len(kept), identity.display, named_outside)
