"""``Cache-Control: no-store`` on every answer of the app that does not say otherwise.

The API's answers hold patient data (a message with its HL7, an event, a rejected body, a CSV
export, a listing with names): a browser or a proxy in between must not keep them. One
middleware, added outermost by ``create_app``, so every answer has it, including routes added
later, the errors the app answers itself (401, 403, 404, 413, 415, 422, 500) and the console's
pages (which set it with their other security headers too, ``integrator.console.app``). An
answer that sets its own ``Cache-Control`` keeps it: only static assets do (the console's
``/static/``, the offline ``/docs`` assets), and they hold no data.

With it, on every answer that does not set its own: ``X-Content-Type-Options: nosniff`` (a
browser never reads a JSON answer or a CSV export as a page or a script), ``X-Frame-Options:
DENY`` (``/docs``, which takes the console's cookie, is framed by no other site) and
``Referrer-Policy: same-origin`` (no address of the engine's leaves with a link). The console's
pages set these and more themselves.

And the one header an answer takes from its request: ``X-Integrator-Token-Expires``, when the
request's API token worked (``auth.authorize`` notes when it expires on the request's state), so
a client can warn its own operators long before its intake stops at a 401.

Over HTTPS, also ``Strict-Transport-Security``: a browser that reached the engine over TLS once
(the engine's own certificate, ``INTEGRATOR_HTTP_TLS_CERT_FILE``, or a trusted proxy that says
it was HTTPS) never falls back to plain HTTP for it, where a network in between could read the
session cookie, a password, a TOTP code or a patient's data. Never over plain HTTP, where a
browser ignores it anyway; no ``includeSubDomains``, as the engine speaks for its own host only.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE: Final = "no-store"
DEFAULT_HEADERS: Final = (
    ("Cache-Control", NO_STORE),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
HSTS: Final = ("Strict-Transport-Security", "max-age=31536000")
"""A year, the common choice: long enough that a browser seldom asks over plain HTTP again."""
TOKEN_EXPIRES: Final = "X-Integrator-Token-Expires"  # noqa: S105 (a header's name)
"""When the request's token expires (ISO 8601, UTC)."""
EXPIRES_KEY: Final = "token_expires"
"""Where ``auth.authorize`` notes it on the request's state."""


class NoStore:
    """Adds each of ``DEFAULT_HEADERS`` to each HTTP answer that does not set it, and the
    token's expiry where the request noted one: one pass over the answer's start for both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULT_HEADERS:
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https":
                    headers.setdefault(*HSTS)
                expires = scope.get("state", {}).get(EXPIRES_KEY)
                if expires is not None:
                    headers.setdefault(TOKEN_EXPIRES, expires)
            await send(message)

        await self.app(scope, receive, send_no_store)
