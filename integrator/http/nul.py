"""The NUL character (U+0000) refused in what the API reads, before any route sees it.

PostgreSQL keeps no NUL in text: a search term, a filter or a person's name holding one made
the store fail, and the route answered a plain 500 (with an ERROR log line per request), where
SQLite answered. So a path or query value holding one, or a JSON body holding the escape
``\\u0000``, is a 422 naming where (``path`` or ``query`` and the parameter, or ``body``) and
the rule, never the value, on
every route but ``POST /api/v1/events``: intake takes what a referral holds and keeps what it
refuses as rejected input (its own rules, ``integrator.intake``).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError

RULE: Final = "must not contain the NUL character (U+0000)"
INTAKE: Final = "/api/v1/events"
_ESCAPED: Final = (b"\\u0000", b"\\U0000")  # how JSON writes a NUL in a string


def _error(loc: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string_pattern_mismatch", "loc": loc, "msg": RULE}


async def refuse_nul(request: Request) -> None:
    """A 422 for each path or query parameter holding a NUL, or for a JSON body that writes
    one (a path's ``%00``: ``/destinations/a%00b/history`` asked the store for that id, a 500
    on PostgreSQL where SQLite answered 404)."""
    errors = [
        _error(("path", key))
        for key, value in request.path_params.items()
        if isinstance(value, str) and "\0" in value
    ]
    errors += [
        _error(("query", key)) for key, value in request.query_params.items() if "\0" in value
    ]
    # The scope's path, not ``request.url``: building the URL object cost more than this check.
    if request.method in {"POST", "PUT", "PATCH"} and request.scope["path"] != INTAKE:
        body = await request.body()  # kept by Starlette: the route reads the same bytes
        if b"\0" in body or any(escaped in body for escaped in _ESCAPED):
            errors.append(_error(("body",)))
    if errors:
        raise RequestValidationError(errors)
