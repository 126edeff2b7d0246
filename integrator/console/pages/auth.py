"""Signing in and out, staying signed in, and the language switch.

Signing in is ``AccessService.login`` (password plus second factor, lockout, audit); every
failure shows the same message, so the page never tells which part was wrong. The session
cookie's lifetime is the session's absolute one; the idle timeout is the service's to enforce.

A page warns two minutes before its session ends when idle and offers to stay signed in
(``static/console.js``): it asks ``GET /session/left`` (no activity: asking keeps nothing
alive) and sends ``POST /session/keep`` when the person says so. Both answer JSON for that
script (the seconds left), or, when the session has ended, 401 with the notice to show.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from integrator.access import SessionTimeLeft
from integrator.access.errors import LoginRefused, SignInsHeld
from integrator.console import i18n
from integrator.console.answers import drop_session_answers, in_place
from integrator.console.errors import sign_in_address, way_back
from integrator.console.render import NavItem, page, session_ended
from integrator.console.session import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    device_cookie,
    engine_of,
    local_path,
    own_page,
    page_address,
    served_over_tls,
    set_device_cookie,
    set_session_cookie,
)
from integrator.console.visitor import VisitorDep
from integrator.http.deps import source_of

router = APIRouter()
NAV: Final[list[NavItem]] = []

Field = Annotated[str, Form(max_length=320)]
Password = Annotated[str, Form(max_length=1024)]
Next = Annotated[str, Form(max_length=2000)]


@router.get("/login")
async def login_form(
    request: Request, visitor: VisitorDep, next: str = "/", interrupted: str = ""
) -> Response:
    """The form; ``interrupted`` (``errors.login_redirect``) says the session ended under
    something the person was doing, which was not done: they must know to do it again.
    ``next`` is a page to return to as ``errors.way_back`` keeps it, whoever wrote the link;
    the language switch keeps that one too."""
    back = way_back(request, next)  # never a parameter of another page's, nor a BSN
    if visitor.identity is not None:
        return RedirectResponse(back, status_code=303)
    return page(
        request,
        visitor,
        "login.html",
        # The language switch returns here with that same way back, not the ``next`` given.
        address=sign_in_address(back, interrupted=interrupted == "1"),
        next=back,
        email="",
        refused=False,
        interrupted=interrupted == "1",
    )


@router.post("/login")
async def login(
    request: Request,
    visitor: VisitorDep,
    email: Field,
    password: Password,
    code: Field,
    next: Next = "/",
) -> Response:
    engine = engine_of(request)
    source = source_of(request)
    try:
        result = await engine.access.login(
            email, password, code, source=source, device=device_cookie(request)
        )
    except SignInsHeld as held:
        return held_page(
            request,
            visitor,
            held,
            "login.html",
            next=way_back(request, next),
            email=email,
            refused=False,
            interrupted=False,
        )
    except LoginRefused:
        return page(
            request,
            visitor,
            "login.html",
            status=401,
            next=way_back(request, next),
            email=email,
            refused=True,
            interrupted=False,
        )
    if visitor.session is not None:
        # Signed in already (a second tab's form, another person at this browser): the cookie
        # is replaced below, and the session it held ends on the server too, so a copy of the
        # old cookie acts as nobody (it stayed valid until its idle timeout).
        await engine.access.logout(visitor.session, source=source)
        await drop_session_answers(request, visitor.session)
    response = RedirectResponse(way_back(request, next), status_code=303)
    lifetime = int((result.expires_at - engine.clock.now()).total_seconds())
    set_session_cookie(request, response, result.session, max(lifetime, 0))
    if result.device is not None:
        seconds = int(engine.access.known_device_lifetime.total_seconds())
        set_device_cookie(request, response, result.device, seconds)
    clear_cookie(request, response, PRESESSION_COOKIE)
    return response


def held_page(
    request: Request, visitor: VisitorDep, held: SignInsHeld, template: str, **context: Any
) -> Response:
    """429 with ``Retry-After``: this address made too many failed attempts, and nothing was
    checked (``AccessService``, docs/access.md). Answered at the POST's address
    (``answers.in_place``), not kept for a redirect, so the status and the header reach the
    client that posted; a reload while held checks nothing either."""
    response = page(
        request,
        visitor,
        template,
        status=429,
        headers={"Retry-After": str(held.retry_after)},
        held=held.minutes,
        **context,
    )
    return in_place(response)


@router.post("/logout")
async def logout(request: Request, visitor: VisitorDep) -> Response:
    if visitor.session is not None:
        await engine_of(request).access.logout(visitor.session, source=source_of(request))
        await drop_session_answers(request, visitor.session)  # its kept form answers too
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/session/left")
async def session_left(request: Request, visitor: VisitorDep) -> Response:
    """How long this browser's session has left. The page asks by itself (a background
    request, ``session.BACKGROUND_HEADER``), so asking keeps nothing alive."""
    if visitor.session is None:
        return _ended(request)
    left = await engine_of(request).access.session_time_left(visitor.session)
    return _ended(request) if left is None else _time_left(left)


@router.post("/session/keep")
async def session_keep(request: Request, visitor: VisitorDep) -> Response:
    """ "Stay signed in": the idle clock starts again. ``VisitorDep`` has checked that the POST
    is the page's own (Origin and CSRF token); a session ended already is sent to sign in."""
    if visitor.session is None:
        return _ended(request)
    left = await engine_of(request).access.session_time_left(visitor.session, keep=True)
    return _ended(request) if left is None else _time_left(left)


def _time_left(left: SessionTimeLeft) -> JSONResponse:
    return JSONResponse(
        {"ends_in": left.ends_in.total_seconds(), "can_be_kept": left.can_be_kept},
        headers={"cache-control": "no-store"},
    )


def _ended(request: Request) -> Response:
    """401 with the notice a refreshing page gets when its session has ended
    (``render.session_ended``), its link to sign in returning to the page that asked (the
    ``Referer``, by the rule of every way back). The page's own source holds neither: a page
    that refused a term must not carry it again in a link."""
    came_from = own_page(request, request.headers.get("referer"))
    return session_ended(request, sign_in_address(way_back(request, came_from)), status=401)


@router.post("/language")
async def choose_language(
    request: Request,
    visitor: VisitorDep,
    lang: Annotated[str, Form(max_length=8)],
    next: Next = "/",
) -> Response:
    """Choose the language and return to ``next``, by the rule its form's ``next`` was made
    with (``_returning_to``): the form may be made by hand, or altered in the browser."""
    response = RedirectResponse(_returning_to(request, next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=400 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=served_over_tls(request),
        )
    return response


def _returning_to(request: Request, target: str) -> str:
    """``target`` as the language form's own ``next`` is made (``render.language_return``,
    ``session.page_address``): a path of this console (``local_path``), with only the query
    parameters its page takes, and none when one of them holds a BSN. Posted by hand
    (``next=/messages?bsn=…``), it would otherwise send the number on into a redirect, the
    browser's history and the next request's ``Referer``."""
    parts = urlsplit(local_path(target))
    routes: list[APIRoute] = getattr(request.app.state, "page_routes", [])
    exact = [r for r in routes if r.path == parts.path]  # as the router picks: exact first
    fitting = exact or [r for r in routes if r.path_regex.match(parts.path)]
    route = next((r for r in fitting if "GET" in (r.methods or ())), None)
    return page_address(route, parts.path, parts.query)
