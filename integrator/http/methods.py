"""A 405's ``Allow`` names every method its path answers, not one route's.

FastAPI makes a route per method, so a path with ``GET`` and ``DELETE`` is two routes, and
the router answers a method none of them takes from the first that matched the path:
its ``Allow`` said ``DELETE`` alone, and a client that read it (RFC 9110 §15.5.6: the methods
the target supports) never tried the ``GET`` that works. Here the answer is made again from
every route whose path matches, with ``HEAD`` wherever ``GET`` is (``integrator.http.head``
answers it), in one fixed order.

An exception handler for the status, not a router of our own: the router raises the 405 as an
``HTTPException`` carrying the one route's ``Allow``, and the app's handlers answer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

ALLOW: Final = "Allow"
ORDER: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""How ``Allow`` lists the methods (any other after these, by name)."""


def served_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method a route of ``routes`` (an app's, its included routers' too) declares for the
    path of ``scope``, whatever its method; none when no route has the path."""
    methods: set[str] = set()
    for context in iter_route_contexts(routes):
        declared = context.methods
        if declared and context.matches(scope)[0] is not Match.NONE:
            methods.update(declared)
    return methods


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """``served_methods`` as ``Allow`` lists them: with ``HEAD`` wherever ``GET`` is, in
    ``ORDER``."""
    methods = served_methods(routes, scope)
    if "GET" in methods:
        methods.add("HEAD")
    rank = {method: place for place, method in enumerate(ORDER)}
    return sorted(methods, key=lambda method: (rank.get(method, len(ORDER)), method))


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """The 405 as the app answers it, with ``Allow`` listing every method of the path."""
    assert isinstance(exc, HTTPException)
    methods = allowed_methods(request.app.router.routes, request.scope)
    if methods:  # else not one of the API's paths: answered as it was raised
        headers = {**(exc.headers or {}), ALLOW: ", ".join(methods)}
        exc = HTTPException(exc.status_code, exc.detail, headers=headers)
    return await http_exception_handler(request, exc)


def install_allow(app: FastAPI) -> None:
    """Answer every 405 of ``app`` with the whole ``Allow``."""
    app.add_exception_handler(405, method_not_allowed)
