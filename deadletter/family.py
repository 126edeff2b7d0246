"""Resend families: a message, its resends, their resends, read for what came *after* a message.

A resend is a new message linked to the one it resends, so everything sent for one original
forms a tree: the family. Two rules read it, and both look only at the members made after the
message in question (every resend of it, transitively, and every later resend of the same
original, such as a second resend made after a first one died):

- a dead letter is **resolved** when such a later member was delivered: the message got through
  after all, so support need not act on it any more;
- a message found by a broad filter is **already resent** when such a later member to the same
  destination is *live*, so running the same batch twice does not send twice; and, when the
  batch goes to the message's own destination, one to any destination, so a referral sent on
  to another hospital (a remap) is not sent to the first one as well.

Earlier members never count: the original that a GP says did not arrive may well be
``delivered``, and that is exactly why it was resent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from integrator.store import Store
from integrator.store.records import ResendLink

LIVE_STATUSES = frozenset({"queued", "sending", "retrying", "delivered", "held"})
"""A resend in one of these got through or is still going to (a held one goes out once its
destination moves to a supported version). Only ``dead`` and ``cancelled`` ones are not live:
they will never arrive, so they do not stop another resend."""

IN_DELIVERY = frozenset({"queued", "sending", "retrying", "held"})

State = Literal["open", "resending", "resolved"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a dead letter stands.

    ``open``: nothing later is under way; ``resending``: a later resend is still in delivery;
    ``resolved``: a later resend was delivered (``resolved_by``). ``latest_resend`` is the
    newest later member of the family, whatever its state, so support can follow the link.
    """

    state: State = "open"
    resolved_by: str | None = None
    latest_resend: ResendLink | None = None
    resolved_at_destination: str | None = None  # where ``resolved_by`` went


OPEN = Resolution()


class Families:
    """The resend families of some messages, as loaded in one go from the store."""

    def __init__(self, links: Iterable[ResendLink]) -> None:
        self._links = {link.id: link for link in links}
        self._members: dict[str, list[ResendLink]] = defaultdict(list)
        for link in sorted(self._links.values(), key=lambda m: m.seq):
            self._members[self._root(link.id)].append(link)

    @classmethod
    async def load(cls, store: Store, message_ids: Sequence[str]) -> Families:
        if not message_ids:
            return cls(())
        return cls(await store.resend_family(message_ids))

    def members(self, message_id: str) -> list[ResendLink]:
        """Its whole family, itself included, oldest first."""
        if message_id not in self._links:
            return []
        return list(self._members[self._root(message_id)])

    def destination_of(self, message_id: str | None) -> str | None:
        """Where a member of these families went; None for one not among them."""
        link = self._links.get(message_id) if message_id is not None else None
        return link.destination_id if link is not None else None

    def later(self, message_id: str) -> list[ResendLink]:
        """The members of its family made after it, oldest first."""
        link = self._links.get(message_id)
        if link is None:
            return []
        return [m for m in self._members[self._root(message_id)] if m.seq > link.seq]

    def live_resend(self, message_id: str, destination_id: str | None = None) -> ResendLink | None:
        """The first later member to ``destination_id`` that got or will get there; without a
        destination, the first later member anywhere that did or will."""
        for member in self.later(message_id):
            if member.status not in LIVE_STATUSES:
                continue
            if destination_id is None or member.destination_id == destination_id:
                return member
        return None

    def resolution(self, message_id: str) -> Resolution:
        later = self.later(message_id)
        latest = later[-1] if later else None
        for member in later:
            if member.status == "delivered":
                return Resolution("resolved", member.id, latest, member.destination_id)
        if any(member.status in IN_DELIVERY for member in later):
            return Resolution("resending", None, latest)
        return Resolution("open", None, latest)

    def _root(self, message_id: str) -> str:
        link = self._links[message_id]
        seen = {link.id}
        while link.resend_of is not None and link.resend_of in self._links:
            link = self._links[link.resend_of]
            if link.id in seen:  # a loop cannot be stored, but never spin on one
                break
            seen.add(link.id)
        return link.id
