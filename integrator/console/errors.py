"""How a console page says no: exceptions raised anywhere in a page, turned into pages here.

Pages raise; they do not build error responses themselves, so every refusal looks the same and
says nothing about what the request held (no echo of a search term, a BSN or an id).

- ``LoginNeeded``: to the sign-in page (an htmx action gets ``HX-Redirect``, so a button
  whose session ran out takes the whole page there rather than showing a form in a tile; a
  page's own refresh instead stops and says the session ended, leaving what was typed), which
  afterwards returns to the page the person was on (``return_to``), and says so when what they
  did was not done;
- ``Forbidden`` (403): the person lacks the permission;
- ``NotAllowed`` (403): a service refused because of who is asking, and says which rule;
- ``NotFound`` (404): unknown, or outside the person's clusters: the same answer;
- ``Refused`` (403): a POST that did not come from the console's own page;
- ``PatientDataInAddress`` (422): a BSN in the address of any page, refused before anything
  else (also before sending someone to sign in, whose return address would carry it on);
- ``BadInput`` (422): the service refused the input; its message, which names the rule and
  never the value, is shown. A form that fails validation is shown the same way, naming the
  field and the rule: never the value (FastAPI's own answer would quote it).
- ``stated_reason.ReasonNeeded``: a view of patient data or an export without a reason where
  the engine requires one (``INTEGRATOR_REASON_REQUIRED``); nothing was shown. To the page
  that asks for the session's reason (``pages.why``), which returns to the page afterwards, as
  the sign-in page does (``reason_asked``).

The API's ``HTTPException`` (the console calls the same service code the API routes call) maps
by status to the same pages. A method a path does not take (``POST /``, ``DELETE /messages/x``)
is a 405 page with ``Allow`` naming every method the path takes, as the API's 405 does
(``allowed``); a known path is never a 404 for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from integrator.access.permissions import Permission
from integrator.console.session import (
    BACKGROUND_HEADER,
    local_path,
    own_page,
    page_address,
    this_page,
)
from integrator.destination_dir import DirectoryUnusable
from integrator.http.docs import OPENAPI
from integrator.http.docs import PAGE as DOCS_PAGE
from integrator.http.errors import log_failure, unknown_key_text
from integrator.http.methods import ALLOW, allowed_methods
from integrator.stated_reason import ReasonNeeded
from integrator.store import StoreUnavailable
from integrator.store.errors import UnknownDataKey


class ConsoleError(Exception):
    status: int = 400
    title_key: str = "error.bad_input.title"
    text_key: str | None = None
    again: str | None = None
    """A page to start again from, linked beside the way back (a search that expired)."""
    again_key: str = "error.search_again"
    """What the link to ``again`` says: a search that expired is searched again; a mistyped
    message id is looked up in the message search."""


class LoginNeeded(ConsoleError):
    status = 401


class Forbidden(ConsoleError):
    """``needed``: the permission the page asks (``visitor.needs``), which the page names with
    the roles that give it; an admin told only to "ask an administrator" had nowhere to go."""

    status = 403
    title_key = "error.forbidden.title"
    text_key = "error.forbidden"

    def __init__(self, needed: Permission | None = None) -> None:
        super().__init__()
        self.needed = needed


class NotFound(ConsoleError):
    status = 404
    title_key = "error.not_found.title"
    text_key = "error.not_found"


class Refused(ConsoleError):
    status = 403
    title_key = "error.refused.title"
    text_key = "error.refused"


class PatientDataInAddress(ConsoleError):
    """A BSN in a page's address: refused, never ignored (a search ignoring it would show
    everybody's messages) and never echoed; logs and the browser's history already hold it."""

    status = 422
    text_key = "error.bsn_in_address"


class BadInput(ConsoleError):
    status = 422

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # The form field it is about, if one: a page that shows the refusal in place (the
        # resend preview) marks that field invalid and puts the keyboard's focus there.
        self.field = field


class NotAllowed(BadInput):
    """A service refused because of who is asking (``AccessDenied``: a grant they lack, a
    destination outside their clusters, a provider another cluster's destination serves): a
    403 that names the rule, worded in the person's language, where ``Forbidden`` only says
    that they may not."""

    status = 403
    title_key = "error.forbidden.title"

    def __init__(self, message: str) -> None:
        # BadInput's own default (422) would otherwise win over the class's 403.
        super().__init__(message, status=403)


class Unavailable(BadInput):
    """The store cannot be reached, or holds a value sealed with a data key this engine was
    not started with: a 503 page in the person's language (the API answers JSON), which says
    what to do; it comes back once the store does, or the engine is restarted with the key."""

    title_key = "error.unavailable.title"

    def __init__(self, message: str = "", *, text_key: str | None = None) -> None:
        super().__init__(message, status=503)
        self.text_key = text_key


_API_PREFIXES: Final = ("/api/", "/metrics", "/healthz", "/readyz", "/docs", "/openapi.json")


INTERRUPTED: Final = "interrupted"
"""The sign-in page's query flag: the request that led there would have changed something and
was not done, so the page says so (the person then signs in and goes back to try again)."""


def return_to(request: Request) -> str:
    """Where the person was when their session ended, to go back to after signing in.

    A GET of a page is that page. Anything else is not a page to go back to: a form's action
    only takes a POST, and an htmx request asks for a fragment (a tile's figures, a badge) or
    acts. For those it is the page the browser says the request came from: htmx's
    ``HX-Current-URL``, else the ``Referer`` (the console sends it within its own origin). Only
    a page of this console counts (``own_page``); otherwise the dashboard. Either way only the
    page's own query parameters are kept, and none when one holds a BSN (``way_back``).
    """
    htmx = request.headers.get("hx-request") == "true"
    if request.method in ("GET", "HEAD") and not htmx:
        return this_page(request)  # its own parameters only: never one that holds a BSN
    came_from = request.headers.get("hx-current-url") if htmx else None
    page = own_page(request, came_from) or own_page(request, request.headers.get("referer"))
    return way_back(request, page)


def way_back(request: Request, target: str | None) -> str:
    """``target`` (a path and query: one a browser reported, a sign-in page's ``next``) as a
    page to return to after signing in, by the rule of ``session.this_page``: a GET page of
    this console or the API's documentation (else the dashboard, ``/``), with only the query
    parameters that page takes, and none when one of them holds a BSN. So whatever else an
    address held, patient data typed into a parameter the page does not take, never reaches a
    redirect or a form. A page that only a POST shows returns to the page above it."""
    address = local_path(target)
    if address == "/":
        return "/"
    parts = urlsplit(address)
    if parts.path in (DOCS_PAGE, OPENAPI):
        return parts.path  # the API's documentation, which sends a browser to sign in too
    path, query = parts.path, parts.query
    route = _page_route(request, path)
    # A page only a POST shows (a confirmation, a search by BSN) goes back to the page it was
    # reached from, the one a level up (``/deadletters/confirm``: ``/deadletters``), without
    # the query, which is the confirmation's, not that page's.
    while route is None and path.count("/") > 1:
        path, query = path.rsplit("/", 1)[0], ""
        route = _page_route(request, path)
    if route is None:
        return "/"
    return page_address(route, path, query)


def _page_route(request: Request, path: str) -> APIRoute | None:
    """The route that shows ``path`` to a GET when that is a console page: not the sign-in
    page, and not a page that only a POST shows (a search by BSN, a confirmation), which a GET
    would refuse; else None."""
    if path in ("/login", "/logout"):
        return None
    routes: list[APIRoute] = getattr(request.app.state, "page_routes", [])
    # A route of exactly this path wins over a pattern it also fits (``/messages/search`` is
    # no ``/messages/{message_id}``), as the router itself decides.
    exact = [r for r in routes if r.path == path]
    fitting = exact or [r for r in routes if r.path_regex.match(path)]
    return next((r for r in fitting if "GET" in (r.methods or ())), None)


STOP_POLLING: Final = 286
"""The status that makes htmx stop a poll (``hx-trigger="every …"``) and still swap."""


def sign_in_address(target: str, *, interrupted: bool = False) -> str:
    """The sign-in page's address that returns to ``target`` (a way back as ``way_back`` or
    ``return_to`` made it: ``/`` needs no ``next``), saying whether something was
    ``interrupted``. The one way to write it: the redirect to the page and the page's own
    language switch (``pages.auth``) write the same address."""
    query = {} if target == "/" else {"next": target}
    if interrupted:
        query[INTERRUPTED] = "1"
    return "/login?" + urlencode(query, safe="", quote_via=quote) if query else "/login"


def login_redirect(request: Request) -> Response:
    """To the sign-in page, which returns to ``return_to`` afterwards; for a request that would
    have changed something (not a GET), with ``INTERRUPTED``, so the page says it was not done.

    Except for a page's own refresh (a background htmx GET: a timer's, ``session.
    BACKGROUND_HEADER``): the person may be typing on that page, and taking them away would
    lose what they typed and send their next keystrokes into the sign-in form. That request is
    answered with ``STOP_POLLING`` and a ``role="alert"`` notice with a link to sign in (out of
    band, into ``base.html``'s ``#session-ended``), and the page is otherwise left alone."""
    interrupted = request.method not in ("GET", "HEAD")
    location = sign_in_address(return_to(request), interrupted=interrupted)
    return _sent_to(request, location, interrupted=interrupted, notice="session")


def _sent_to(
    request: Request,
    location: str,
    *,
    interrupted: bool,
    notice: Literal["session", "reason"],
) -> Response:
    """Off to ``location``, a page the request needs first (signing in, a reason), which
    returns to it: a plain request by a redirect; an htmx action takes the whole page there
    (``HX-Redirect``); a page's own refresh stops and says why, with a link there
    (``render.session_ended``)."""
    if request.headers.get("hx-request") == "true":
        if not interrupted and request.headers.get(BACKGROUND_HEADER) == "1":
            from integrator.console import render  # it needs the templates

            said = render.SESSION_ENDED if notice == "session" else render.REASON_NEEDED
            return render.session_ended(request, location, status=STOP_POLLING, notice=said)
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


REASON_PAGE: Final = "/reason"
"""Where a person states why they look at patient data in their session (``pages.why``)."""


def reason_address(target: str, *, needed: bool = False) -> str:
    """The reason page's address that returns to ``target`` (a way back as ``way_back`` or
    ``return_to`` made it), saying whether the engine asked for it (``needed``)."""
    query = {} if target == "/" else {"next": target}
    if needed:
        query["needed"] = "1"
    return f"{REASON_PAGE}?" + urlencode(query, safe="/", quote_via=quote) if query else REASON_PAGE


def reason_asked(request: Request) -> Response:
    """To the reason page, which returns to ``return_to`` once a reason is given: the engine
    requires one for this view or export, and nothing was shown. As ``login_redirect``: an htmx
    action takes the whole page there; a page's own refresh (a message's status, every two
    seconds) stops and says why, with a link to give one (its part of the page is kept)."""
    location = reason_address(return_to(request), needed=True)
    interrupted = request.method not in ("GET", "HEAD")
    return _sent_to(request, location, interrupted=interrupted, notice="reason")


def from_http(
    exc: HTTPException | StarletteHTTPException, method: str = "GET", allow: Sequence[str] = ()
) -> ConsoleError:
    """The page of ``exc``; for a 405, ``method`` is the request's and ``allow`` what the path
    takes (``allowed``)."""
    from integrator.console.refusals import Said  # it needs the catalogue

    if exc.status_code == 404:
        return NotFound()
    if exc.status_code in (401, 403):
        return Forbidden()
    if exc.status_code == 405:
        if method in ("GET", "HEAD") and "GET" not in allow:
            # The address of a form's answer, opened again (a bookmark, the address bar).
            return BadInput(Said(str(exc.detail), "console.method"), status=405)
        # Never the method itself: a client may send any token as one.
        taken = ", ".join(allow)
        rule = f"this address does not take that method; it takes {taken}"
        return BadInput(
            Said(rule, "console.method_not_taken", values={"allowed": taken}), status=405
        )
    return BadInput(str(exc.detail), status=exc.status_code)


def allowed(request: Request, exc: StarletteHTTPException) -> list[str]:
    """Every method the path of a 405 takes, as the API's ``Allow`` lists them
    (``integrator.http.methods``): from every console route of the path, not the one the router
    raised it from (``/messages/search`` takes POST, and GET as a message id); else what the
    raiser said (the static files: ``GET, HEAD``)."""
    methods = allowed_methods(request.app.router.routes, request.scope)
    if methods:
        return methods
    said = (exc.headers or {}).get(ALLOW, "")
    return [method.strip() for method in said.split(",") if method.strip()]


def install_error_pages(app: FastAPI) -> None:
    from integrator.console.render import error_page  # the page needs the templates

    async def console_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleError)
        if isinstance(exc, LoginNeeded):
            return login_redirect(request)
        return await error_page(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(_API_PREFIXES):
            # Not a console page: an unknown API path answers like the API would.
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        if exc.status_code != 405:
            return await error_page(request, from_http(exc))
        # A method the path does not take: the page, and ``Allow`` naming every one it does
        # (RFC 9110 §15.5.6), as the API answers it.
        allow = allowed(request, exc)
        answer = await error_page(request, from_http(exc, request.method, allow))
        if allow:
            answer.headers[ALLOW] = ", ".join(allow)
        return answer

    async def invalid_form(request: Request, exc: Exception) -> Response:
        # FastAPI's own answer quotes the input; a form may hold a BSN or a password.
        assert isinstance(exc, RequestValidationError)
        from integrator.console.refusals import form_problems  # it needs the catalogue

        return await error_page(request, BadInput(form_problems(request, exc.errors())))

    async def store_failed(request: Request, exc: Exception) -> Response:
        # What the API's ContainUnexpectedErrors answers as JSON, as a page here; logged alike.
        from integrator.console.refusals import Said  # it needs the catalogue

        log_failure(request.scope, exc)
        if isinstance(exc, UnknownDataKey):
            said = Said(
                unknown_key_text(exc.kid), "console.data_key_unknown", values={"kid": exc.kid}
            )
            return await error_page(request, Unavailable(said))
        # Who asks cannot be read from a store that is down: the page is said without it.
        down = Unavailable(text_key="error.store_unavailable")
        answer = await error_page(request, down, anonymous=True)
        answer.headers["retry-after"] = "5"
        return answer

    async def directory_unusable(request: Request, exc: Exception) -> Response:
        # The engine may not read or write its own destinations directory: a page saying so
        # in the person's language, without the server's path (the log line names it).
        assert isinstance(exc, DirectoryUnusable)
        from integrator.console.refusals import Said  # it needs the catalogue

        log_failure(request.scope, exc)
        return await error_page(request, Unavailable(Said(exc.without_path, exc.code)))

    async def reason_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ReasonNeeded)
        return reason_asked(request)

    app.add_exception_handler(ConsoleError, console_error)
    app.add_exception_handler(ReasonNeeded, reason_needed)
    app.add_exception_handler(DirectoryUnusable, directory_unusable)
    app.add_exception_handler(StoreUnavailable, store_failed)
    app.add_exception_handler(UnknownDataKey, store_failed)
    app.add_exception_handler(RequestValidationError, invalid_form)
    app.add_exception_handler(StarletteHTTPException, http_error)
