"""Cookies, CSRF tokens and the Origin check: what makes a browser request the person's own.

A console session is the random secret ``AccessService.login`` returns, kept in an HttpOnly,
SameSite=Strict cookie on Path=/ (Secure, with the ``__Host-`` prefix, when the console is
served over TLS, so no other site or plain-HTTP page can set or read it). Idle and absolute
timeouts, revocation and deactivation are ``AccessService.authenticate_session``'s: the console
asks on every request and keeps nothing about a session itself.

Every POST must prove it comes from the console's own pages, twice over:

- its ``Origin`` (or, lacking that, ``Referer``) is the origin the request was sent to; a
  browser sets these and a page on another site cannot forge them;
- it carries the CSRF token (form field ``csrf`` or header ``X-CSRF-Token``): an HMAC of the
  session secret, which a page on another site cannot read. Before login (the sign-in and
  invitation forms) the secret is a random pre-session cookie instead, so those forms are
  protected the same way.

Either failing is a 403, and nothing is done.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from integrator.access.permissions import Identity
from integrator.http.query import declared_query
from integrator.http.served import engine_of as engine_of  # the pages take it from here
from integrator.search import holds_bsn, term_holds_bsn

SESSION_COOKIE: Final = "integrator-session"
PRESESSION_COOKIE: Final = "integrator-presession"
# A browser signed in from before (``access.known_devices``): kept when signing out.
DEVICE_COOKIE: Final = "integrator-device"
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "x-csrf-token"
# Sent by requests a page makes by itself (an htmx request started by a timer or by loading,
# static/console.js): they keep no session alive, so a page left open still ends when idle.
BACKGROUND_HEADER: Final = "x-integrator-background"
_CSRF_PURPOSE: Final = b"integrator console csrf v1"
_PRESESSION_AGE: Final = 3600  # a sign-in form older than an hour is reloaded


def served_over_tls(request: Request) -> bool:
    return request.url.scheme == "https" or engine_of(request).settings.http_tls


def cookie_name(request: Request, base: str) -> str:
    """``__Host-`` names over TLS: the browser then insists on Secure, Path=/ and no Domain."""
    return f"__Host-{base}" if served_over_tls(request) else base


def session_secret(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request, SESSION_COOKIE)) or None


async def session_identity(request: Request) -> Identity | None:
    """Who is signed in with the request's session cookie, or None; as every page asks.

    For the API's documentation too (``integrator.http.auth``), so a signed-in person can open
    ``/docs``; no other API route takes the cookie.
    """
    raw = session_secret(request)
    if raw is None:
        return None
    activity = request.headers.get(BACKGROUND_HEADER) != "1"
    return await engine_of(request).access.authenticate_session(raw, activity=activity)


def presession_secret(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request, PRESESSION_COOKIE)) or None


def new_presession() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: str) -> str:
    """The token a form carries: it proves the page was rendered for the holder of ``secret``."""
    return hmac.new(secret.encode(), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


def set_cookie(
    request: Request, response: Response, base: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=served_over_tls(request),
        httponly=True,
        samesite="strict",
    )


def set_session_cookie(request: Request, response: Response, secret: str, max_age: int) -> None:
    set_cookie(request, response, SESSION_COOKIE, secret, max_age=max_age)


def device_cookie(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request, DEVICE_COOKIE)) or None


def set_device_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    set_cookie(request, response, DEVICE_COOKIE, value, max_age=max_age)


def set_presession_cookie(request: Request, response: Response, secret: str) -> None:
    set_cookie(request, response, PRESESSION_COOKIE, secret, max_age=_PRESESSION_AGE)


def clear_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=served_over_tls(request),
        httponly=True,
        samesite="strict",
    )


def local_path(target: str | None) -> str:
    """``target`` if it is a path of this console, else ``/``: never a redirect elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def this_page(request: Request) -> str:
    """This GET page's address to come back to: its path, and of its query only the parameters
    its route declares (``http.query.declared_query``), as the address has them.

    Nothing else of the address is sent on (in a hidden field, a redirect): a parameter the
    page does not take is not part of the page, and may be anything, patient data typed or
    pasted into an address (``?foo=<BSN>``) too. And when one of the kept parameters holds a
    BSN (``search.term_holds_bsn``, the misplaced-BSN rule) the query is left off altogether: a
    BSN is never repeated in an address, not even one the page was opened with. A destination's
    id that holds nine such digits (``umc-999990019``) is the id it can be, as a search takes
    it: a page filtered by it keeps its filter.
    """
    route = request.scope.get("route")
    return page_address(
        route if isinstance(route, APIRoute) else None, request.url.path, request.url.query
    )


def page_address(route: APIRoute | None, path: str, query: str) -> str:
    """``path`` with, of ``query`` (as an address has it), only the parameters ``route``
    declares, and none at all when one of those holds a BSN: ``this_page``'s rule, for any
    address of a page of this console (one a browser reports, one a sign-in link names)."""
    if path_holds_bsn(path):
        return "/"
    known = declared_query(route) if route is not None else frozenset[str]()
    parts = query.split("&") if query else []
    kept = "&".join(p for p in parts if unquote_plus(p.partition("=")[0]) in known)
    if any(term_holds_bsn(name, value) for name, value in parse_qsl(kept)):
        kept = ""
    return local_path(path + (f"?{kept}" if kept else ""))


_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def path_holds_bsn(path: str) -> bool:
    """Whether a segment of ``path`` holds a BSN (``search.holds_bsn``): one typed into an
    address in place of a message's id (``/messages/<BSN>``), or anywhere in one that names
    no page. Such a path is not named again, in a sign-in link or a form, as a query holding
    one is not. A UUID, the id of a message or an event, is no BSN, though one in two hundred
    holds nine digits that pass the eleven-test."""
    return any(
        holds_bsn(segment)
        for segment in unquote(path).split("/")
        if segment and _UUID.fullmatch(segment) is None
    )


def own_page(request: Request, address: str | None) -> str | None:
    """The path (and query) of ``address`` when it is a page of this very console, else None.

    For the addresses a browser reports about the page a request came from (``Referer``,
    htmx's ``HX-Current-URL``): only one of our own origin counts, so a header naming another
    site can never make the console send someone there.
    """
    if not address:
        return None
    parts = urlsplit(address)
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    if f"{parts.scheme}://{parts.netloc}".lower() != own.lower():
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target if local_path(target) == target else None


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from a page of this very origin."""
    claimed = request.headers.get("origin")
    if claimed is None or claimed == "null":
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        claimed = f"{parts.scheme}://{parts.netloc}"
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return hmac.compare_digest(claimed.lower().encode(), own.lower().encode())


async def sent_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def post_is_genuine(request: Request, secret: str | None) -> bool:
    """Origin and CSRF token both right for ``secret`` (the session's, or the pre-session's)."""
    if secret is None or not same_origin(request):
        return False
    token = await sent_token(request)
    # Compared as bytes: compare_digest refuses a str that is not ASCII (a 500, not a 403).
    return token is not None and hmac.compare_digest(
        token.encode("utf-8"), csrf_token(secret).encode("utf-8")
    )
