"""A search by BSN as the console pages it: made by a POST, kept, then shown by GET.

The search forms that may hold a BSN post (``/messages/search``, ``/events/search``,
``/rejected/search``, ``/audit``, ``/deadletters/search``). Without a BSN the post only
redirects to the GET of the listing with the terms in its address (identifiers, no patient
data), once the page has checked each term with the rules its GET reads them with (the
service's filter, ``search.misplaced_bsn`` first): a term refused there (a BSN, a name or a
birth date typed into the ZD number or a period) is the form again, the refusal beside its
field, and never reaches an address, the browser's history or a proxy's log. With one, the page
makes the search through its service (which records the view), keeps it
(``integrator.kept_searches``) and redirects (303) to the listing's GET with
``?search=<handle>``: Post/Redirect/Get, so the browser's history holds GETs only (Back and a
reload ask nothing and search nothing again) and no address, link or form field holds the
BSN. Paging and the CSV export name the handle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from integrator import kept_searches
from integrator.console.errors import NotFound
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor
from integrator.kept_searches import KeptSearch, UnknownSearch
from integrator.search import misplaced_bsn

FIELD: Final = "search"
"""The query key of a kept search's handle."""

Handle = Annotated[str, Query(alias=FIELD, max_length=kept_searches.MAX_HANDLE)]


class SearchGone(NotFound):
    """Unknown, expired or another person's: one answer, which says to search again."""

    title_key = "error.search_gone.title"
    text_key = "error.search_gone"

    def __init__(self, again: str) -> None:
        super().__init__()
        self.again = again


async def kept_search(
    request: Request, visitor: Visitor, kind: str, handle: str, *, again: str
) -> KeptSearch:
    """The person's own unexpired search of ``kind``; else the page that says to start again."""
    engine = engine_of(request)
    try:
        return await kept_searches.kept(
            engine.store, visitor.signed_in, kind, handle, now=engine.clock.now()
        )
    except UnknownSearch:
        raise SearchGone(again) from None


async def keep_and_show(
    request: Request,
    visitor: Visitor,
    kind: str,
    path: str,
    terms: dict[str, str],
    bsn_hash: str,
) -> RedirectResponse:
    """Keep a search by BSN just made (and recorded) and send the browser to its GET."""
    engine = engine_of(request)
    search = await kept_searches.keep(
        engine.store, visitor.signed_in, kind, terms, bsn_hash, now=engine.clock.now()
    )
    return RedirectResponse(f"{path}?{urlencode({FIELD: search.handle})}", status_code=303)


def listing_query(terms: Mapping[str, str]) -> str:
    """The query string of a listing's GET for identifier ``terms`` (the empty ones left out)."""
    return urlencode({k: v for k, v in terms.items() if v})


def to_listing(path: str, terms: dict[str, str]) -> RedirectResponse:
    """A search form posted without a BSN: to its GET, with the terms in the address.

    The page has checked every term by its GET's rules before it gets here, and answered a
    refused one with the form again, the refusal beside it (a term that holds a BSN,
    ``search.misplaced_bsn``, first), so only terms the listing takes reach an address. A
    term that still holds a BSN is a fault of the page, and no redirect puts it there."""
    if misplaced_bsn(terms) is not None:
        raise ValueError("a search term holds a BSN: the page refuses it, it is not redirected")
    query = listing_query(terms)
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
