"""A console search as the console pages it: made by a POST, kept, then shown by GET.

The search forms post (``/messages/search``, ``/events/search``, ``/rejected/search``,
``/audit``, ``/deadletters/search``), and nothing typed into one ever reaches an address: not a
BSN, and not the free text of a term the listing takes as it is (the audit trail's action,
target and message id, a provider), where a name or a birth date would otherwise stay in the
browser's history and a proxy's log. The page first checks each term with the rules its GET
reads them with (the service's filter, ``search.misplaced_bsn`` first): a term refused there
is the form again, the refusal beside its field. A search by BSN is then made through its
service (which records the view); one without a BSN records nothing. Either is kept
(``integrator.kept_searches``) and the browser redirected (303) to the listing's GET with
``?search=<handle>``: Post/Redirect/Get, so the browser's history holds GETs only (Back and a
reload ask nothing and record nothing again) and no address, link or form field holds what was
typed. Paging and the CSV export name the handle. A form posted with nothing in it goes to the
listing itself.

An address a person types by hand (``/audit?target=…``) is still read by the GET's rules, and
the links the console builds from identifiers it shows (a destination's messages, a ZD
number's rejected input) keep their terms: those are no one's typing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from integrator import kept_searches
from integrator.console.errors import NotFound
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor
from integrator.kept_searches import KeptSearch, UnknownSearch

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
    bsn_hash: str | None,
) -> RedirectResponse:
    """Keep a search just checked (by BSN: made, and recorded) and send the browser to its GET
    under the handle. ``bsn_hash`` None: a search without a BSN; none at all (an empty form)
    is the listing itself. The page has checked every term by its GET's rules first (a BSN in
    a term among them, by its own rule of what may hold one: an audit trail's message id may
    hold nine digits), so none that is refused is kept."""
    if bsn_hash is None and not any(terms.values()):
        return RedirectResponse(path, status_code=303)
    engine = engine_of(request)
    search = await kept_searches.keep(
        engine.store, visitor.signed_in, kind, terms, bsn_hash, now=engine.clock.now()
    )
    return RedirectResponse(f"{path}?{urlencode({FIELD: search.handle})}", status_code=303)


def listing_query(terms: Mapping[str, str]) -> str:
    """The query string of a listing's GET for identifier ``terms`` (the empty ones left out)."""
    return urlencode({k: v for k, v in terms.items() if v})


def period_moments(zone: tzinfo, since: datetime | None, until: datetime | None) -> dict[str, str]:
    """A period as read (``since`` inclusive, ``until`` exclusive) written back as terms: its
    moments in ``zone`` with their offset, blank ones left out. For a way back to a listing
    that lasts longer than its kept search: what was read, never what was typed.

    Written to the microsecond, so reading them again gives the same moments: a since as it
    is; an until as its last microsecond, which is read as running to the end of it (an until
    runs to the end of its last unit), so to the same exclusive end."""
    fixed: dict[str, str] = {}
    if since is not None:
        fixed["since"] = since.astimezone(zone).isoformat(timespec="microseconds")
    if until is not None:
        last = until - timedelta(microseconds=1)
        fixed["until"] = last.astimezone(zone).isoformat(timespec="microseconds")
    return fixed
