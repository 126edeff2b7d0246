"""Finding messages: by ZD number, destination, status, version, event type and period, and, for
who may read patient data, by the patient's BSN.

The same code as the API answers: ``GET /api/v1/messages`` for the identifier terms and
``POST /api/v1/messages/search`` for a BSN, which therefore travels in a form body only (the
form is a POST for who may use it), and is audited as a view of patient data there. Both are
narrowed to the person's clusters by the API's ``Scope``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from integrator.access.permissions import Permission
from integrator.console.errors import Forbidden
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.http.bodies import SearchBody
from integrator.http.deps import source_of
from integrator.http.routes import messages as api
from integrator.store.records import MessageStatus
from mappings.registry import REGISTRY

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/messages", "nav.messages", P.MESSAGES_READ)]
PAGE_SIZE: Final = 50
EVENT_TYPES: Final = ("referral", "diagnostic_request")

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Term = Annotated[str, Form(max_length=200)]


def _terms(values: dict[str, str | None]) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


async def _results(
    request: Request, visitor: Visitor, terms: dict[str, str], bsn: str | None, offset: int
) -> Response:
    engine = engine_of(request)
    problem = None
    rows: list[dict[str, Any]] = []
    searched = bool(terms) or bsn is not None
    try:
        if bsn is not None:
            if not visitor.may_somewhere(P.PATIENT_DATA_READ):
                raise Forbidden()
            body = SearchBody(bsn=bsn, limit=PAGE_SIZE + 1, offset=offset, **terms)
            rows = await api.search_messages(
                body, engine, visitor.scope(P.PATIENT_DATA_READ), source_of(request)
            )
        else:
            rows = await api.list_messages(
                engine,
                visitor.scope(P.MESSAGES_READ),
                **terms,
                limit=PAGE_SIZE + 1,
                offset=offset,
            )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        problem = str(exc.detail)  # names the term and the rule, never the value
    scope = visitor.scope(P.MESSAGES_READ)
    return page(
        request,
        visitor,
        "messages.html",
        terms=terms,
        # Refused terms are not shown back (the BSN least of all); a good BSN stays for paging.
        bsn=(bsn or "") if problem is None else "",
        bsn_search=visitor.may_somewhere(P.PATIENT_DATA_READ),
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        searched=searched,
        problem=problem,
        destinations=sorted(scope.visible_catalog(engine.catalog).destinations),
        statuses=[s.value for s in MessageStatus],
        versions=sorted(REGISTRY),
        event_types=EVENT_TYPES,
    )


@router.get("/messages")
async def messages(
    request: Request,
    visitor: Reader,
    zd_number: str | None = None,
    destination: str | None = None,
    status: str | None = None,
    version: str | None = None,
    event_type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    offset: int = 0,
) -> Response:
    terms = _terms(
        {
            "zd_number": zd_number,
            "destination": destination,
            "status": status,
            "version": version,
            "event_type": event_type,
            "since": since,
            "until": until,
        }
    )
    return await _results(request, visitor, terms, None, max(offset, 0))


@router.post("/messages/search")
async def search(
    request: Request,
    visitor: Reader,
    bsn: Term = "",
    zd_number: Term = "",
    destination: Term = "",
    status: Term = "",
    version: Term = "",
    event_type: Term = "",
    since: Term = "",
    until: Term = "",
    offset: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    terms = _terms(
        {
            "zd_number": zd_number,
            "destination": destination,
            "status": status,
            "version": version,
            "event_type": event_type,
            "since": since,
            "until": until,
        }
    )
    return await _results(request, visitor, terms, bsn.strip() or None, offset)
