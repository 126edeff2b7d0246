"""Each request's stated reason ends with it (``integrator.stated_reason``).

The doors state a request's why as its first step (the API's ``deps.state_reason``, the
console's ``visitor.read_visitor``), for every request, so none answers with another's. A
server runs each request in a task of its own, whose context ends with it; an application
called in its caller's task (a test's in-process client, a process embedding the engine) would
keep the last request's reason, and whether one is required, for whatever it does next. This
ASGI layer puts back what was stated before the request once it is answered: the same task
and context as the request itself (a pure ASGI layer starts none), so the reset always holds.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from integrator.stated_reason import fresh, put_back


class ReasonPerRequest:
    """Around every HTTP request: nothing stated at its start, and as before at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = fresh()
        try:
            await self.app(scope, receive, send)
        finally:
            put_back(token)
