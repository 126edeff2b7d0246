"""Paging by the last item seen (``after``), the listings' keyset, and its two refusals.

An ``offset`` counts from the newest item: the pages shift while new items arrive, and the
store walks every skipped item to reach a page (``offset=500000`` took seconds on a million
messages, bench/results/at-scale.md). ``after`` names the last item of the page before; the
next page is what the listing's own order puts after it (``Store.list_messages(after=)``,
``list_events(after=)``, ``list_audit(before_id=)``, the keysets the exports page with), found
from its index like the first page.

The item named must be one the caller may see: an id outside their clusters is refused as an
unknown one is, so ``after`` cannot tell whether an id exists elsewhere.
"""

from __future__ import annotations

from typing import Final

from integrator.ids import stored_id
from integrator.search import BadSearch

AFTER: Final = "after"

NAMES_NOTHING: Final = (
    "names no {what} you may see: give the id of the last {what} of the page before, with the "
    "same terms"
)
BOTH: Final = "give `after` or `offset`, not both: `after` already says where the page starts"


def cursor_id(after: str, what: str) -> str:
    """``after`` as the store keeps an id (a UUID, lower case), or ``BadSearch`` naming it."""
    found = stored_id(after)
    if found is None:
        raise unknown(what)
    return found


def unknown(what: str) -> BadSearch:
    """The refusal of an ``after`` that names no ``what`` in the caller's sight."""
    return BadSearch(AFTER, NAMES_NOTHING.format(what=what))


def one_way(*, offset: int, after: object | None) -> None:
    """Refuse ``after`` with an ``offset``: which page is meant would be a guess."""
    if after is not None and offset:
        raise BadSearch(AFTER, BOTH)
