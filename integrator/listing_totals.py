"""How many a cut listing's terms match in all, for whoever shows some of them: "N of M".

A listing that looks complete when it is not is how a batch gets missed, so the events and
audit listings (console pages and CLI) say of how many they show a part, as the message search
does. The count is made as that one's is: only when the listing is cut (read one row beyond
its page: a listing that holds them all, or the last page of one, says its total by itself),
one count that reads no row's content. And it is counted no further than ``COUNTED_AT_MOST``:
the audit trail holds every view and sign-in for years, and a count of millions of entries on
each look at its first page would make the page slow for a figure nobody reads to the last
digit; past it the total says "more than" that. A listing whose rows reach that far (a
``--limit`` of 10,000 or more, a page that deep) is counted that much further than its rows
(``counted_at_most``): counted only as far as its rows, its total said "10000 of more than
10001", true and of no use; the count costs no more than reading the rows shown did, and
the bound again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

COUNTED_AT_MOST: Final = 10_000
"""How far a total is counted (past the rows shown, for rows that reach it)."""

Counter = Callable[[int], Awaitable[int]]
"""Counts what the listing's terms match, no further than the number it is given."""


@dataclass(frozen=True, slots=True)
class Total:
    """How many match: ``count``; with ``beyond``, more than ``count`` (counted no further)."""

    count: int
    beyond: bool = False


def counted_at_most(end: int, bound: int | None = None) -> int:
    """How far the total of a listing whose rows end at row ``end`` is counted: ``bound``
    (``COUNTED_AT_MOST`` when not given); for rows that reach it, ``bound`` beyond them."""
    bound = COUNTED_AT_MOST if bound is None else bound
    return bound if end < bound else end + bound


async def listing_total(
    count: Counter, *, offset: int, shown: int, more: bool, bound: int | None = None
) -> Total:
    """The total of a listing whose page starts at ``offset`` and holds ``shown`` rows,
    ``more`` saying that a row follows it. Counted (``count``) only when it is cut, or for a
    page past the end, as far as ``counted_at_most`` says (``bound``: its bound, for a test
    that needs no 10,000 rows); a total is never less than the rows known to be there."""
    if not more and (shown or not offset):
        return Total(offset + shown)
    # Known to match: the rows up to this page's end and the one read beyond it (none for a
    # page past the end, whose offset says nothing of how many there are).
    end = offset + shown if shown else 0
    known = end + (1 if more else 0)
    at_most = counted_at_most(end, bound)
    found = await count(at_most + 1)
    if found > at_most:
        return Total(at_most, beyond=True)
    return Total(max(found, known))
