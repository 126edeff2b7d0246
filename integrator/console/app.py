"""``create_console``: the console as its own application, mounted at ``/`` by ``create_app``.

Its own application, not routes of the API's, because the two front doors authenticate
differently: the API takes Bearer tokens only and JSON bodies only, the console takes cookie
sessions and HTML forms. Mounted last, it answers every path the API does not serve.

App-wide, so every page has them: Post/Redirect/Get for every form's page answer
(``integrator.console.answers``), the security headers below (nothing may load from elsewhere,
no framing, no caching of pages that may hold patient data), the error pages
(``integrator.console.errors``: a 405 with the whole ``Allow`` among them), the static files
served from the package, and a ``HEAD`` on every page answered as its ``GET`` without the body,
by the API's own rule (``integrator.http.head``): the same session, permission and status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, Response

from integrator.console.answers import post_then_get
from integrator.console.errors import install_error_pages
from integrator.console.nul import refuse_nul_in_page
from integrator.console.pages import (
    audit,
    auth,
    batch_resend,
    dashboard,
    deadletters,
    destination_changes,
    destination_removal,
    destinations,
    event,
    events,
    invitation,
    message,
    messages,
    people,
    rejected,
    tokens,
    try_now,
    unrouted,
    versions,
    why,
)
from integrator.console.render import NavItem
from integrator.console.visitor import refuse_patient_data_in_address
from integrator.http.head import HeadAsGet
from integrator.http.telemetry import NO_TELEMETRY

STATIC: Final = Path(__file__).parent / "static"
FAVICON: Final = "/favicon.ico"
"""Where every browser asks for a site's icon, whatever a page links: one of the static files,
served at the root too, as they are served, without a session (it holds nothing). Missing,
each page load logged a 404."""

OPERATIONS: Final = (
    destinations,
    destination_changes,
    destination_removal,
    versions,
    deadletters,
    unrouted,
    rejected,
    audit,
)
ADMINISTRATION: Final = (people, tokens)
PAGES: Final = (
    auth,
    invitation,
    dashboard,
    messages,
    message,
    try_now,
    events,
    batch_resend,
    *OPERATIONS,
    event,
    *ADMINISTRATION,
    why,
)
"""Every group of pages, in the order of the navigation; also the order their routes are
matched in, so ``event`` (``/events/{event_id}``, no entry of its own) comes after ``unrouted``
(``/events/unrouted``), whose fixed paths it would otherwise answer."""

SECURITY_HEADERS: Final = {
    # Nothing from anywhere else: no CDN, no fonts, no inline script or style.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_console() -> FastAPI:
    """The console, answering for the engine of each request's state (``session.engine_of``)."""
    console = FastAPI(
        telemetry=NO_TELEMETRY,  # nothing leaves but what the engine sends (http.telemetry)
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # Every page, and later ones.
        dependencies=[Depends(refuse_patient_data_in_address), Depends(refuse_nul_in_page)],
    )
    console.state.navigation = [item for module in PAGES for item in module.NAV]
    # Which paths are pages a person can be sent back to after signing in (errors.return_to).
    console.state.page_routes = [
        route for module in PAGES for route in module.router.routes if isinstance(route, APIRoute)
    ]
    install_error_pages(console)
    # Inside the security headers (added later: outside), so a kept answer shown by GET has
    # them as every page does (``answers``: Post/Redirect/Get for every form's page answer).
    console.middleware("http")(post_then_get)

    @console.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/static/") or request.url.path == FAVICON:
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # Outermost: a HEAD of a page goes through everything its GET does (the session, the
    # permission, the headers above, a kept answer) and answers as it, without the body.
    console.add_middleware(HeadAsGet, router=console.router)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")
    console.add_route(FAVICON, _favicon, methods=["GET"], include_in_schema=False)
    for module in PAGES:
        console.include_router(module.router)
    return console


async def _favicon(request: Request) -> Response:
    return FileResponse(STATIC / "favicon.ico")


__all__ = ["PAGES", "NavItem", "create_console"]
