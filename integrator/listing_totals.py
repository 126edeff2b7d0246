"""How many a cut listing's terms match in all, for whoever shows some of them: "N of M".

A listing that looks complete when it is not is how a batch gets missed, so the events and
audit listings (console pages and CLI) say of how many they show a part, as the message search
does. The count is made as that one's is: only when the listing is cut (read one row beyond
its page: a listing that holds them all, or the last page of one, says its total by itself),
one count that reads no row's content. And it is counted no further than ``COUNTED_AT_MOST``
(or the rows shown, if more): the audit trail holds every view and sign-in for years, and a
count of millions of entries on each look at its first page would make the page slow for a
figure nobody reads to the last digit; past it the total says "more than" that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

COUNTED_AT_MOST: Final = 10_000
"""How far a total is counted (at least as far as the rows shown)."""

Counter = Callable[[int], Awaitable[int]]
"""Counts what the listing's terms match, no further than the number it is given."""


@dataclass(frozen=True, slots=True)
class Total:
    """How many match: ``count``; with ``beyond``, more than ``count`` (counted no further)."""

    count: int
    beyond: bool = False


async def listing_total(count: Counter, *, offset: int, shown: int, more: bool) -> Total:
    """The total of a listing whose page starts at ``offset`` and holds ``shown`` rows,
    ``more`` saying that a row follows it. Counted (``count``) only when it is cut, or for a
    page past the end; a total is never less than the rows known to be there."""
    if not more and (shown or not offset):
        return Total(offset + shown)
    # Known to match: the rows up to this page's end and the one read beyond it (none for a
    # page past the end, whose offset says nothing of how many there are).
    known = (offset + shown if shown else 0) + (1 if more else 0)
    at_most = max(COUNTED_AT_MOST, known)
    found = await count(at_most + 1)
    if found > at_most:
        return Total(at_most, beyond=True)
    return Total(max(found, known))
