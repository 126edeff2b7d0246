"""Request bodies are JSON, on every route of the app: anything else is a 415; and only a
route that reads a body may be sent one: else a 422.

A web page can make a browser send a ``text/plain`` body or an HTML form to any address
without asking first ("simple" requests, no CORS preflight); it cannot send
``application/json`` that way. So a write (POST, PUT, PATCH) that carries a body must say it
is JSON: ``application/json``, or a ``+json`` type such as ``application/merge-patch+json``
for PATCH. ``create_app`` adds ``require_json_body`` for the whole app, so it also covers the
routes that read their body raw (``POST /api/v1/events``, ``POST /api/v1/destinations``). An
event submission refused so is kept as rejected input (``integrator.http.refused_intake``).

JSON between systems is UTF-8 (RFC 8259 section 8.1), and every route reads it so. A body
declared in another charset (``application/json; charset=iso-8859-1``) was read as UTF-8 all
the same: a Latin-1 body was refused as no JSON at best, and a sender who encodes in another
charset could have had text misread. It is a 415 too, before the body is read: the declared
representation is one the route does not take (RFC 9110 section 15.5.16), as a body not declared
as JSON. ``charset=utf-8`` (or ``utf8``), in any case, is taken.

A body with a ``Content-Encoding`` (gzip, br, …) is a 415 before all of that, and is never kept
(``integrator.http.encoding``).
"""

from __future__ import annotations

import email.message
import email.utils
from typing import Final

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from integrator.http.encoding import refuse_encoded
from integrator.http.refused_intake import keep_not_json, keep_not_utf8

WRITES: Final = frozenset({"POST", "PUT", "PATCH"})
NOT_JSON: Final = "the body must be JSON: send it with 'Content-Type: application/json'"
NOT_UTF8: Final = (
    "the body must be UTF-8 JSON (RFC 8259): send it as UTF-8, with no charset or "
    "'charset=utf-8' in its Content-Type"
)
UTF8: Final = frozenset({"utf-8", "utf8"})
"""The charset names taken (in any case): UTF-8's, and the spelling many libraries write."""


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


def other_charset(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` value declares a charset other than UTF-8 (a parameter
    ``charset`` given, in any case, quoted or not, that is not ``utf-8`` or ``utf8``)."""
    if not content_type or "charset" not in content_type.lower():
        return False  # the usual header: no parsing
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    charset = parsed.get_param("charset")
    if charset is None:
        return False
    name = email.utils.collapse_rfc2231_value(charset) if isinstance(charset, tuple) else charset
    return name.strip().lower() not in UTF8


def has_body(request: Request) -> bool:
    """Whether the request says it carries a body (a length above 0, or chunks)."""
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


async def require_json_body(request: Request) -> None:
    """A 415 for a body with a content coding (``integrator.http.encoding``: before anything
    of it is read or kept) and for a write whose body is not declared as JSON; a 422 for a
    body sent to a route that reads none (``takes_body``)."""
    if not has_body(request):
        return
    refuse_encoded(request.headers)
    if request.method in WRITES and not is_json(request.headers.get("content-type")):
        await keep_not_json(request)  # an event submission is kept as rejected input
        raise HTTPException(status_code=415, detail=NOT_JSON)
    if request.method in WRITES and other_charset(request.headers.get("content-type")):
        await keep_not_utf8(request)  # as a body not sent as JSON
        raise HTTPException(status_code=415, detail=NOT_UTF8)
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
