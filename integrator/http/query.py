"""Unknown query parameters are refused (docs/product.md §7), on every route of the app.

A misspelt filter silently ignored answers with every message, and a BSN put in a URL by mistake
(``?bsn=...``) would do the same while leaving the BSN in proxy logs. So each request's query
keys are compared with the parameters its route declares (its own and its dependencies'), and
any other key is a 422 naming it when it may be named (a name the API declares elsewhere, or a
BSN's: ``integrator.http.errors.safe_name``), else as ``…``. ``create_app``'s
dependency of the whole app runs ``refuse_unclear_parameters``, so routes added later are
covered without doing anything; it refuses a query parameter or a header given twice too.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from integrator.http.errors import declared_names, safe_name

BSN_SEARCHES: Final = (
    ("/api/v1/audit", "/api/v1/audit/search"),
    ("/api/v1/events", "/api/v1/events/search"),
    ("/api/v1/rejected", "/api/v1/rejected/search"),
)
"""Where a route's BSN search is, by the start of its path; any other: the messages'."""
MESSAGES_SEARCH: Final = "/api/v1/messages/search"


def bsn_search(path: str) -> str:
    """Where to search by BSN instead of ``path``'s URL: the audit trail's, the events', the
    rejected input's own search, else the messages' (the one most asked for)."""
    search = next((s for start, s in BSN_SEARCHES if path.startswith(start)), MESSAGES_SEARCH)
    return f"a BSN never goes in a URL: search by BSN in the body of POST {search}"


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameter names ``route`` takes, through all of its dependencies."""
    return frozenset(_names(route.dependant))


def _names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # a query model: its fields are the parameters
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


def is_bsn_key(key: str) -> bool:
    """Whether a query key names a BSN (``bsn``, ``patient_bsn``, ``burgerservicenummer``):
    refused by name on the API and on every console page, never ignored."""
    lowered = key.lower()
    return "bsn" in lowered or "burgerservicenummer" in lowered


def _error(key: str, allowed: frozenset[str], known: frozenset[str], path: str) -> dict[str, Any]:
    if is_bsn_key(key):
        rule = f"unknown query parameter: {bsn_search(path)}"
    elif taken := sorted(name for name in allowed if not is_bsn_key(name)):
        # A ``bsn`` a route declares is declared to be refused (never in a URL): not offered.
        rule = f"unknown query parameter; this route takes {', '.join(taken)}"
    else:
        rule = "unknown query parameter; this route takes none"
    return {"type": "extra_forbidden", "loc": ("query", safe_name(key, known)), "msg": rule}


async def refuse_unclear_parameters(request: Request) -> None:
    """A 422 naming each query parameter the matched route does not declare, and each query
    parameter or header it reads given more than once (``_repeated``): one dependency of the
    whole app, so one solve a request for both."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors = _repeated(request, route)
    if request.query_params:
        allowed = declared_query(route)
        unknown = sorted({key for key in request.query_params if key not in allowed})
        if unknown:
            known = declared_names(request.app)
            errors = [_error(key, allowed, known, route.path) for key in unknown] + errors
    if errors:
        raise RequestValidationError(errors)


GIVEN_TWICE: Final = "is given more than once; which one was meant cannot be told"
ALWAYS_ONE: Final = ("Authorization",)
"""Headers no request may repeat, whatever its route declares. (``X-Integrator-Reason``, read
on every route but intake, is held to it by ``deps.state_reason``, which an event submission
never reaches: a header appended twice there must not cost an event.)"""


def declared_headers(route: APIRoute) -> tuple[str, ...]:
    """The headers ``route`` reads, as it names them, through all of its dependencies, and
    those no request may repeat; found once per route."""
    found: tuple[str, ...] | None = getattr(route, "_integrator_headers", None)
    if found is None:
        found = tuple(sorted(_header_names(route.dependant) | set(ALWAYS_ONE)))
        route._integrator_headers = found  # type: ignore[attr-defined]
    return found


def _header_names(dependant: Dependant) -> set[str]:
    names = {field.alias or field.name for field in dependant.header_params}
    for sub in dependant.dependencies:
        names |= _header_names(sub)
    return names


def _repeated(request: Request, route: APIRoute) -> list[dict[str, Any]]:
    """The errors of each query parameter, and each header ``route`` reads, given more than
    once: read as Starlette reads them, the last query value won and the first header, so
    ``?limit=1&limit=2`` listed two and a second ``X-Integrator-Reason`` went unrecorded.
    No route of the API takes a list in its query."""
    errors: list[dict[str, Any]] = []
    if request.query_params:
        keys = [key for key, _ in request.query_params.multi_items()]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        known = declared_names(request.app) if twice else frozenset()
        errors += [
            {"type": "duplicate_key", "loc": ("query", safe_name(key, known)), "msg": GIVEN_TWICE}
            for key in twice
        ]
    for name in declared_headers(route):
        if len(request.headers.getlist(name)) > 1:
            errors.append({"type": "duplicate_key", "loc": ("header", name), "msg": GIVEN_TWICE})
    return errors
