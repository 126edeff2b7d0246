"""Request bodies are JSON, on every route of the app: anything else is a 415; and only a
route that reads a body may be sent one: else a 422.

A web page can make a browser send a ``text/plain`` body or an HTML form to any address
without asking first ("simple" requests, no CORS preflight); it cannot send
``application/json`` that way. So a write (POST, PUT, PATCH) that carries a body must say it
is JSON: ``application/json``, or a ``+json`` type such as ``application/merge-patch+json``
for PATCH. ``create_app`` adds ``require_json_body`` for the whole app, so it also covers the
routes that read their body raw (``POST /api/v1/events``, ``POST /api/v1/destinations``). An
event submission refused so is kept as rejected input (``integrator.http.refused_intake``).
"""

from __future__ import annotations

import email.message
from typing import Final

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from integrator.http.refused_intake import keep_not_json

WRITES: Final = frozenset({"POST", "PUT", "PATCH"})
NOT_JSON: Final = "the body must be JSON: send it with 'Content-Type: application/json'"


def is_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` value names JSON (parameters such as charset allowed)."""
    if not content_type:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    if parsed.get_content_maintype() != "application":
        return False
    subtype = parsed.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def has_body(request: Request) -> bool:
    """Whether the request says it carries a body (a length above 0, or chunks)."""
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


async def require_json_body(request: Request) -> None:
    """A 415 for a write whose body is not declared as JSON; a 422 for a body sent to a route
    that reads none (``takes_body``)."""
    if not has_body(request):
        return
    if request.method in WRITES and not is_json(request.headers.get("content-type")):
        await keep_not_json(request)  # an event submission is kept as rejected input
        raise HTTPException(status_code=415, detail=NOT_JSON)
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and not takes_body(route):
        raise RequestValidationError(
            [{"type": "no_body", "loc": ("body",), "msg": NO_BODY, "input": None}]
        )


NO_BODY: Final = (
    "this route takes no body: its reason goes in the X-Integrator-Reason header, its options "
    "in the query"
)


def takes_body(route: APIRoute) -> bool:
    """Whether ``route`` reads a request body: a body parameter, or one it reads raw and
    declares in its OpenAPI (``POST /api/v1/events``, a destination's definition).

    A route that reads none used to take any JSON body and ignore it: a pause or a token's
    revocation sent with ``{"reason": …}`` (where resend and discard take it) was recorded with
    no reason at all, and a test message asked for as ``{"event_type": …}`` went out as the
    default type, answered 200 as done.
    """
    return route.body_field is not None or "requestBody" in (route.openapi_extra or {})
