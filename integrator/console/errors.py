"""How a console page says no: exceptions raised anywhere in a page, turned into pages here.

Pages raise; they do not build error responses themselves, so every refusal looks the same and
says nothing about what the request held (no echo of a search term, a BSN or an id).

- ``LoginNeeded``: to the sign-in page (htmx requests get ``HX-Redirect``, so a dashboard tile
  whose session ran out takes the whole page there rather than showing a form in a tile);
- ``Forbidden`` (403): the person lacks the permission;
- ``NotFound`` (404): unknown, or outside the person's clusters: the same answer;
- ``Refused`` (403): a POST that did not come from the console's own page;
- ``BadInput`` (422): the service refused the input; its message, which names the rule and
  never the value, is shown. A form that fails validation is shown the same way, naming the
  field and the rule: never the value (FastAPI's own answer would quote it).

The API's ``HTTPException`` (the console calls the same service code the API routes call) maps
by status to the same pages.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response


class ConsoleError(Exception):
    status: int = 400
    title_key: str = "error.bad_input.title"
    text_key: str | None = None


class LoginNeeded(ConsoleError):
    status = 401


class Forbidden(ConsoleError):
    status = 403
    title_key = "error.forbidden.title"
    text_key = "error.forbidden"


class NotFound(ConsoleError):
    status = 404
    title_key = "error.not_found.title"
    text_key = "error.not_found"


class Refused(ConsoleError):
    status = 403
    title_key = "error.refused.title"
    text_key = "error.refused"


class BadInput(ConsoleError):
    status = 422

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


_API_PREFIXES: Final = ("/api/", "/metrics", "/healthz", "/readyz", "/docs", "/openapi.json")


def login_redirect(request: Request) -> Response:
    # Back to the page after signing in; not to a form's action, which only takes a POST.
    target = request.url.path if request.method == "GET" else "/"
    if request.url.query and request.method == "GET":
        target += "?" + request.url.query
    location = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def from_http(exc: HTTPException | StarletteHTTPException) -> ConsoleError:
    if exc.status_code == 404:
        return NotFound()
    if exc.status_code in (401, 403):
        return Forbidden()
    return BadInput(str(exc.detail), status=exc.status_code)


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
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return await error_page(request, from_http(exc))

    async def invalid_form(request: Request, exc: Exception) -> Response:
        # FastAPI's own answer quotes the input; a form may hold a BSN or a password.
        assert isinstance(exc, RequestValidationError)
        from integrator.console.refusals import form_problems  # it needs the catalogue

        return await error_page(request, BadInput(form_problems(request, exc.errors())))

    app.add_exception_handler(ConsoleError, console_error)
    app.add_exception_handler(RequestValidationError, invalid_form)
    app.add_exception_handler(StarletteHTTPException, http_error)
