"""Reading a request's JSON body: one rule for every route that takes one.

A body that is no JSON (malformed, not UTF-8, ``NaN`` or ``Infinity``) or is nested deeper
than ``MAX_DEPTH`` levels is a 422 in the API's validation shape, ``{"detail": [{"loc":
["body"], "msg": <the rule>, "type": "json_invalid"}]}``, and never repeats the body. Without
it, FastAPI answered a body nested too deep for Python's parser with an undocumented 400, and a
route reading its body itself (the destinations') a 500. An object holding a key twice is a
422 too (``duplicate_key``, at the key's place), as intake refuses it: read as Python reads it,
the last one won, so ``{"dry_run": true, …, "dry_run": false}`` resent for real.

Every router of the API uses ``JsonBodyRoute``, whose requests parse their body with
``parse_json``, so the bodies FastAPI reads for a typed model follow the same rule as those a
route reads itself (``integrator.http.deps.json_object``). ``POST /api/v1/events`` reads its
raw bytes and answers with intake's own refusal (``json_syntax``), keeping them as rejected
input.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

import jiter
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from integrator.http.auth import authorize
from integrator.http.encoding import refuse_encoded
from schemas.parse import where_twice
from schemas.rules import message_for

MAX_DEPTH: Final = 64
"""The deepest nesting of objects and arrays a request body may have (a destination's
definition, the deepest body the API takes, has fewer than ten levels)."""

TOO_DEEP: Final = f"JSON nested deeper than {MAX_DEPTH} levels (objects and arrays)"
NOT_JSON: Final = "not valid JSON (UTF-8 text)"
DUPLICATE_KEY: Final = "duplicate_key"


def bad_json(rule: str, kind: str = "json_invalid") -> HTTPException:
    """The answer to a body that breaks ``rule``: the validation shape, naming the body."""
    return HTTPException(status_code=422, detail=[{"loc": ["body"], "msg": rule, "type": kind}])


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests objects and arrays deeper than ``MAX_DEPTH`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level > MAX_DEPTH:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


class KeyTwice(HTTPException):
    """A body whose object holds a key twice: a 422 naming the body alone, which the routes of
    ``JsonBodyRoute`` answer as a validation error at the key's place (an ``HTTPException``, as
    FastAPI's reading of a body answers any other error with a 400)."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        super().__init__(status_code=422, detail=[_twice_at(("body",))])
        self.path = path

    def validation_error(self) -> RequestValidationError:
        """The error at its place; the API's handler shows only the keys it declares."""
        return RequestValidationError([_twice_at(("body", *self.path))])


def _twice_at(loc: tuple[str | int, ...]) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message_for(DUPLICATE_KEY), "type": DUPLICATE_KEY}


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, or the 422 of ``bad_json`` naming the rule it breaks; a key held twice
    is a validation error at its place (its name shown as the API's errors show keys).

    One pass (jiter, as intake's check): it finds a key held twice as it parses, and takes no
    ``NaN`` or ``Infinity``; only a body with a key twice is read again, to say where."""
    try:
        value = jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as exc:
        said = str(exc)
        if said.startswith("Detected duplicate key"):
            where = where_twice(raw)
            if where is not None:
                raise KeyTwice(where) from None
        elif said.startswith("recursion limit exceeded"):
            raise bad_json(TOO_DEEP) from None
        raise bad_json(NOT_JSON) from None
    if _too_deep(value):
        raise bad_json(TOO_DEEP)
    return value


class JsonBodyRequest(Request):
    """A request whose ``json()`` is ``parse_json``'s, of a body sent without a content coding
    (``integrator.http.encoding``), read only for a caller who may call the route.

    FastAPI parses a typed model's body before it solves the route's dependencies, the app's
    ``authorize`` among them: a caller without a token who sent a malformed body was told 422
    about it, not 401, and learnt what the route takes. So the body is read after
    ``authorize``, which the dependency then finds done (one token check a request)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            await authorize(self)
            refuse_encoded(self.headers)
            self._json = parse_json(await self.body())
        return self._json


class JsonBodyRoute(APIRoute):
    """A route whose body, when FastAPI reads it as JSON, is read by ``parse_json``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            try:
                return await handler(JsonBodyRequest(request.scope, request.receive))
            except KeyTwice as twice:
                raise twice.validation_error() from None

        return checked
