"""Post/Redirect/Get for every console form: a POST's page is kept and shown by a GET.

A form's answer that is a page (a refusal with what was typed, a resend's preview, a token
shown once) used to stay at the POST's address: a reload posted the form again (the browser
asks, and some forms then act twice: a second failed sign-in, a second token), and Back from
the next page landed on the browser's *Confirm Form Resubmission* (``ERR_CACHE_MISS``). So
(``post_then_get``) such an answer is kept on the server and the browser redirected (303) to
the page the form was on, with ``?answer=<handle>``; that GET shows the kept answer, with its
status (a refusal stays a 422, a 409, …). A reload shows it again and posts nothing; Back goes
to the page before. Redirects (the forms that act and then show their result by GET already),
htmx requests (they swap a part of a page and make no history entry), and answers that are
not pages are left as they are.

The handle is random (32 bytes, URL-safe), never derived from the form, so nothing typed ever
reaches an address. The answer is kept in the store (``console_answers``; several engines may
serve the console behind one address) under the handle's hash, **sealed with a key made from
the browser's session secret** (before sign-in: its pre-session secret), which only that
browser's cookie holds: the store keeps the session's hash, not the secret, so a row cannot be
opened without that cookie, and another person's browser, or the same browser after a new
sign-in, finds nothing. It lasts ``LASTS``; then the address shows the page the form was on,
as an unknown handle does. A session that ended shows nothing kept either, and signing out
drops its answers from the store at once (``drop_session_answers``: each row names its session
by a keyed hash of the secret, ``owner``).

An answer is shown again only to who may still see it: the permissions the page needed
(``visitor.needs``), in the clusters the person held them, are kept with it
(``answer_needs``) and asked again at every look; a role taken away or a grant narrowed since
is the usual refusal, a 403 page, not the answer.

A route decides per answer (``show_once``, ``in_place``):

- ``show_once``: the first look takes it. For an answer that holds a secret shown once (a new
  API token, an invitation link) or patient data whose every view is audited (a resend's
  preview, rejected input as it arrived): a reload then shows the page the form was on, and
  never that secret or that data again unrecorded. A ``HEAD`` is no look (it gets the status
  and headers, none of the answer) and takes nothing;
- ``in_place``: answered at the POST's address as before, for the invitation's own pages,
  which hold the new authenticator secret and the recovery codes (stored nowhere, by design).

Every other answer (a refusal, a confirmation listing identifiers) can be looked at again
until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import zlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from integrator.console import answer_needs
from integrator.console.errors import Forbidden
from integrator.console.render import error_page
from integrator.console.session import (
    own_page,
    page_address,
    presession_secret,
    same_origin,
    session_identity,
    session_secret,
)
from integrator.http.head import head_only
from integrator.http.served import engine_of
from integrator.store import StoreUnavailable

FIELD: Final = "answer"
"""The query key of a kept answer's handle."""
LASTS: Final = timedelta(minutes=15)
"""Long enough to read a refusal, mend the form, reload; short enough that a handle left in
the browser's history soon opens nothing."""
MARK: Final = "x-integrator-answer"
"""The header a route sets on its answer to say how it is kept; never sent to the browser."""
ONCE: Final = "once"
IN_PLACE: Final = "in-place"
MAX_HANDLE: Final = 64
_PURPOSE: Final = b"integrator console answer v1"
_OWNER_PURPOSE: Final = b"integrator console answer owner v1"


def show_once(response: Response) -> Response:
    """``response`` kept for one look only (a secret shown once, audited patient data)."""
    response.headers[MARK] = ONCE
    return response


def in_place(response: Response) -> Response:
    """``response`` answered at the POST's address, not kept (the invitation's pages)."""
    response.headers[MARK] = IN_PLACE
    return response


def _id(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


def _key(secret: str) -> bytes:
    """The sealing key of a browser's answers: an HMAC of its session (or pre-session) secret,
    which the store never holds."""
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _owner(secret: str) -> str:
    """Whose answers a row holds: a keyed hash of the session secret with a purpose of its own,
    so it matches neither the sealing key nor the session's hash in ``sessions``."""
    return hmac.new(secret.encode(), _OWNER_PURPOSE, hashlib.sha256).hexdigest()


async def drop_session_answers(request: Request, secret: str) -> None:
    """Delete the answers the session ``secret`` kept: it is signing out (or another sign-in
    at the browser ends it)."""
    await engine_of(request).store.drop_console_answers(_owner(secret))


def _seal(secret: str, answer_id: str, kept: dict[str, object]) -> str:
    nonce = os.urandom(12)
    plain = zlib.compress(json.dumps(kept, ensure_ascii=False).encode())
    sealed = AESGCM(_key(secret)).encrypt(nonce, plain, answer_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _open(secret: str, answer_id: str, stored: str) -> dict[str, object] | None:
    raw = base64.b64decode(stored)
    try:
        plain = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], answer_id.encode())
    except InvalidTag:
        return None
    kept = json.loads(zlib.decompress(plain))
    return kept if isinstance(kept, dict) else None


def _get_route(request: Request, path: str) -> APIRoute | None:
    routes: list[APIRoute] = getattr(request.app.state, "page_routes", [])
    exact = [r for r in routes if r.path == path]
    fitting = exact or [r for r in routes if r.path_regex.match(path)]
    return next((r for r in fitting if "GET" in (r.methods or ())), None)


def form_page(request: Request) -> str:
    """The GET page a form was posted from, to show its answer at: the ``Referer`` when it is
    a page of this console, else the page above the form's action (``/tokens/x/revoke``:
    ``/tokens``), else the dashboard. Of its query only the parameters that page takes, and
    none when one holds a BSN (``session.page_address``): never what the form held."""
    came_from = own_page(request, request.headers.get("referer"))
    path, _, query = (came_from or request.url.path).partition("?")
    if came_from is None:
        query = ""
    route = _get_route(request, path)
    while route is None and path.count("/") > 1:
        path, query = path.rsplit("/", 1)[0], ""
        route = _get_route(request, path)
    if route is None:
        return "/"
    return page_address(route, path, query)


def _with_handle(address: str, handle: str) -> str:
    path, _, query = address.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != FIELD]
    return f"{path}?{urlencode([*pairs, (FIELD, handle)])}"


def _without_handle(request: Request) -> str:
    pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != FIELD]
    return request.url.path + (f"?{urlencode(pairs)}" if pairs else "")


async def _sealing_secret(request: Request) -> tuple[str, bool] | None:
    """The secret to seal a POST's answer with, and whether it is a session's: the session's
    while it is signed in, else the pre-session's (the sign-in form); None without either."""
    raw = session_secret(request)
    if raw is not None and await session_identity(request) is not None:
        return raw, True
    pre = presession_secret(request)
    return (pre, False) if pre is not None else None


def _keeps(request: Request, response: Response) -> bool:
    """Whether this answer is one to keep and redirect to: a page answering a form that a
    browser posted from a page of this console (not an htmx request, not a redirect, not a
    route's in-place answer, not a failure of the engine)."""
    if request.method != "POST" or request.headers.get("hx-request") == "true":
        return False
    if response.headers.get(MARK) == IN_PLACE:
        return False
    if not (200 <= response.status_code < 300 or 400 <= response.status_code < 500):
        return False
    if response.status_code == 204:
        return False
    if not response.headers.get("content-type", "").startswith("text/html"):
        return False
    return same_origin(request)


async def post_then_get(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The console's middleware: a GET naming a kept answer shows it; a form's page answer is
    kept and redirected to (see the module's text)."""
    if request.method == "GET" and FIELD in request.query_params:
        return await _shown(request)
    needs = answer_needs.start(request)
    response = await call_next(request)
    if not _keeps(request, response):
        if MARK in response.headers:
            del response.headers[MARK]
        return response
    sealing = await _sealing_secret(request)
    if sealing is None:
        del response.headers[MARK]
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    once = response.headers.get(MARK) == ONCE
    handle = secrets.token_urlsafe(32)
    answer_id = _id(handle)
    secret, signed_in = sealing
    kept: dict[str, object] = {
        "status": response.status_code,
        "body": body.decode("utf-8"),
        "session": signed_in,
        "needs": needs,
    }
    engine = engine_of(request)
    now = engine.clock.now()
    try:
        await engine.store.add_console_answer(
            answer_id,
            answer=_seal(secret, answer_id, kept),
            once=once,
            now=now,
            expires_at=now + LASTS,
            owner=_owner(secret) if signed_in else None,
        )
    except StoreUnavailable:
        # Nothing kept: the answer at the POST's address, as before, rather than none.
        plain = Response(body, status_code=response.status_code, headers=dict(response.headers))
        del plain.headers[MARK]
        return plain
    redirect = RedirectResponse(_with_handle(form_page(request), handle), status_code=303)
    for name, value in response.raw_headers:
        if name.lower() == b"set-cookie":  # a pre-session handed out with the page
            redirect.raw_headers.append((name, value))
    return redirect


async def _shown(request: Request) -> Response:
    """The kept answer the address names, for the browser that posted it; anything else
    (unknown, expired, taken, another browser's, a session ended since) is the page itself.
    One the person may no longer see (``answer_needs``) is the refusal page."""
    handle = request.query_params.get(FIELD, "")
    plain = RedirectResponse(_without_handle(request), status_code=303)
    if not handle or len(handle) > MAX_HANDLE:
        return plain
    engine = engine_of(request)
    answer_id = _id(handle)
    secrets_held = [s for s in (session_secret(request), presession_secret(request)) if s]
    if not secrets_held:
        return plain
    found = await engine.store.get_console_answer(answer_id, now=engine.clock.now())
    if found is None:
        return plain
    stored, once = found
    for secret in secrets_held:
        kept = _open(secret, answer_id, stored)
        if kept is None:
            continue
        if kept.get("session"):
            identity = await session_identity(request)
            if identity is None:
                return plain  # signed out since: the page, which asks to sign in
            needs = kept.get("needs")
            if not isinstance(needs, dict):
                return plain  # kept before answers said what they need: the page itself
            if not answer_needs.still_met(identity, needs):
                return await error_page(request, Forbidden())
        # A HEAD takes nothing: none of the answer leaves, and its GET still shows it once.
        taking = once and not head_only(request)
        if taking and not await engine.store.take_console_answer(answer_id):
            return plain  # looked at already (a second tab at the same moment)
        body = str(kept.get("body", ""))
        status = kept.get("status")
        return Response(
            body,
            status_code=status if isinstance(status, int) else 200,
            media_type="text/html",
        )
    return plain
