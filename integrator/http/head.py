"""``HEAD`` on every ``GET`` route of the API: the ``GET``'s answer without its body.

RFC 9110 §9.3.2: HEAD is GET without the content. FastAPI makes a route for the methods it is
given and no more, so every ``HEAD`` but the probes' (``/healthz``, ``/readyz``, which declare
it) was a 405, and a client checking whether a message exists, or a monitor asking a listing's
``X-Total-Count``, had to take the whole body.

``HeadAsGet`` sends a ``HEAD`` whose path a ``GET`` route answers, and no route of its own,
on as that ``GET``: the same permission (``ROUTE_PERMISSIONS`` names the ``GET``, the table
holds no row for each ``HEAD``), the same checks and refusals, the same status and headers,
``Content-Length`` included; the body is dropped on the way out. The server's own scope still
says ``HEAD`` (a copy goes on), so it frames the answer as one without a body.

The ``GET`` is made within ``patient_views.headers_only``: a message, event or rejected input
read for a ``HEAD`` is checked as for its ``GET`` but not recorded as a view of patient data
(``patient_data.view``), since none of it leaves; the rule is the service's, so no route repeats
it. Nor does its ``Content-Length`` leave: unrecorded, it told how long a patient's record
is. A route that can tell a ``HEAD`` from its ``GET`` asks ``head_only``: the CSV exports then
export nothing (no rows read, no ``*.export`` audit entry for a file that never left) and
answer the headers they know without the file (RFC 9110 lets a ``HEAD`` leave out what only
making the body determines: its ``Content-Length``, the next page's ``Link``).
"""

from __future__ import annotations

from typing import Final

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrator.http.methods import served_methods
from integrator.patient_views import headers_only

HEAD_ONLY: Final = "integrator.head_only"
"""The scope's key that marks a ``GET`` made for a ``HEAD``."""


def head_only(request: Request) -> bool:
    """Whether this ``GET`` answers a ``HEAD``: its body goes nowhere."""
    return bool(request.scope.get(HEAD_ONLY, False))


class HeadAsGet:
    """The ASGI middleware of the module's rule (``build_app`` installs it)."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        methods = served_methods(self.router.routes, scope)
        if "HEAD" in methods or "GET" not in methods:
            # A route of its own (the probes), or no GET here: a 405 naming what the path takes,
            # or the console's page.
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.start" and withheld.patient_data:
                # Its view is not recorded, so not even its size goes out (RFC 9110 §9.3.2).
                del MutableHeaders(scope=message)["content-length"]
            elif message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a part of the body: none of it goes out
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # Nothing is shown, so no view of patient data is recorded.
        with headers_only() as withheld:
            await self.app({**scope, "method": "GET", HEAD_ONLY: True}, receive, without_body)
