"""Who is asking, and may they: one app-wide dependency, so every route is covered.

``create_app``'s one dependency of the whole app (``integrator.http.app.admit``) runs
:func:`authorize` first, before the query guard of ``integrator.http.query`` and the other
rules, so a route added later is covered without doing anything.
For the matched route it looks up the permission in ``ROUTE_PERMISSIONS``
(``integrator.access.routes``) and:

- refuses a route that is not in the table (403): a new route needs a decision first;
- lets the open routes (permission ``None``: the two probes) through;
- lets any authenticated identity read a ``SIGNED_IN`` route (the API's documentation): an API
  token with any role, or a console session (its cookie, read as the console reads it, so a
  signed-in person can open ``/docs`` in the browser; only these routes, which only read and
  hold no data, take the cookie: every other route needs a token, so no other site's page can
  act through a person's browser). Without either: 401, and a browser opening the page is
  sent to the console's sign-in, which brings them back;
- reads ``Authorization: Bearer <token>`` and asks ``AccessService.authenticate_token``,
  through the engine's ``RememberedTokens`` (``integrator.access.remembered``), which answers
  for the metrics permission from the token's last check while the store is unavailable. A
  missing, malformed, unknown, expired or revoked token, or one whose owner was deactivated,
  gets the same 401 with ``WWW-Authenticate: Bearer``: the answer never tells which (it lists
  them all, so a sender whose token expired does not read it as "no token sent"); the log does,
  for a token the store knows (``integrator.access.token_notices``);
- keeps when the token expires on the request's state, which every answer then says in
  ``X-Integrator-Token-Expires`` (added by ``caching.NoStore``), so a client sees it coming;
- answers 403 when the identity holds the permission in no cluster (for a route in
  ``EVERY_CLUSTER``: not in all of them), naming the token's grants that would carry it but
  are suspended, with the service's reason (a role that reads patient data its maker no
  longer holds), so its holder is not left guessing;
- keeps the identity and the route's permission on ``request.state``. Routes take them as
  ``IdentityDep`` or, to narrow to the identity's clusters, as ``ScopeDep``
  (``integrator.http.scope``).

The rule itself (which roles carry a permission, which grants reach a cluster) is
``Identity.may`` and ``Identity.visible_clusters``; this module only asks.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from integrator.access.permissions import Identity, Permission, roles_with
from integrator.access.routes import EVERY_CLUSTER, ROUTE_PERMISSIONS, SIGNED_IN
from integrator.http.caching import EXPIRES_KEY
from integrator.http.served import engine_of
from integrator.logging import get_logger

log = get_logger("integrator.http")

UNAUTHENTICATED: Final = (
    "authentication required: no valid API token was sent; it may be missing, unknown, "
    "expired or revoked, or its owner deactivated (this answer does not say which; the "
    "engine's log names a known token that no longer works). Send one as 'Authorization: "
    "Bearer itg_…' (`integrator tokens create` makes one on the server)"
)
_CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}


def route_key(request: Request) -> tuple[str, str] | None:
    """``(method, path template)`` of the matched route, as ``ROUTE_PERMISSIONS`` keys it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return None
    return request.method, route.path


def _one_authorization(request: Request) -> None:
    """A 422 for a request with two ``Authorization`` headers, before either is read: which
    caller it is cannot be told, and a route refused it only once its first token had been
    let through (or named in a 403 for a permission the other may have held)."""
    if len(request.headers.getlist("authorization")) > 1:
        from integrator.http.query import GIVEN_TWICE  # query imports this module, through errors

        raise RequestValidationError(
            [{"type": "duplicate_key", "loc": ("header", "Authorization"), "msg": GIVEN_TWICE}]
        )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None for anything else (two such
    headers included: no one token is meant)."""
    if len(request.headers.getlist("authorization")) > 1:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def authorize(request: Request) -> None:
    """The one check in front of every route; see the module's description. Done once a
    request: a route's body is read only after it (``integrator.http.json_body``), and the
    app's dependency then finds it done."""
    if getattr(request.state, "authorized", False):
        return
    key = route_key(request)
    if key is None or key not in ROUTE_PERMISSIONS:
        log.error("route declares no permission", method=request.method, route=key)
        raise HTTPException(status_code=403, detail="this route declares no permission")
    permission = ROUTE_PERMISSIONS[key]
    if permission is None:
        request.state.authorized = True
        return
    _one_authorization(request)
    if permission is SIGNED_IN:
        request.state.identity = await _signed_in(request)
        request.state.authorized = True
        return
    identity = await _authenticate(request, permission)
    if identity is None:
        raise HTTPException(status_code=401, detail=UNAUTHENTICATED, headers=_CHALLENGE)
    everywhere = key in EVERY_CLUSTER
    if not _allowed(identity, permission, everywhere=everywhere):
        raise HTTPException(
            status_code=403, detail=_refusal(permission, identity, everywhere=everywhere)
        )
    request.state.identity = identity
    request.state.permission = permission
    request.state.authorized = True


async def permitted_caller(request: Request, key: tuple[str, str]) -> Identity | None:
    """The identity ``authorize`` would let call the route ``key`` with this request's token,
    or None (no token, a wrong one, or one without the route's permission).

    For what must know who is asking before the route is reached: a body refused by its
    declared size is answered before any dependency runs (``integrator.http.limits``), and is
    kept as rejected input only for a caller who may submit (``integrator.http.refused_intake``).
    """
    permission = ROUTE_PERMISSIONS.get(key)
    if not isinstance(permission, Permission):
        return None
    identity = await _authenticate(request, permission)
    if identity is None or not _allowed(identity, permission, everywhere=key in EVERY_CLUSTER):
        return None
    return identity


async def _signed_in(request: Request) -> Identity:
    """The token's identity, else the console session's; 401 (a browser: to sign in) without."""
    from integrator.console.session import session_identity  # the console imports this module

    identity = await _authenticate(request, None) or await session_identity(request)
    if identity is not None:
        return identity
    if "text/html" in request.headers.get("accept", ""):
        # The path only: these pages (the API's documentation) take no query, and whatever was
        # typed into one (a BSN, a name) must not travel on in a Location header and the
        # sign-in page's address, into proxy logs and the browser's history.
        raise HTTPException(
            status_code=303,
            detail="sign in first",
            headers={"Location": "/login?" + urlencode({"next": request.url.path})},
        )
    raise HTTPException(status_code=401, detail=UNAUTHENTICATED, headers=_CHALLENGE)


def _allowed(identity: Identity, permission: Permission, *, everywhere: bool) -> bool:
    return identity.may(permission) if everywhere else identity.may_somewhere(permission)


async def _authenticate(request: Request, permission: Permission | None) -> Identity | None:
    """The token's identity, for a route needing ``permission`` (None: any identity); when it
    expires goes on the request's state, for the answer's header."""
    token = bearer_token(request)
    if token is None:
        return None
    checked = await engine_of(request).tokens.check(token, permission)
    if checked.expires_at is not None:
        setattr(request.state, EXPIRES_KEY, checked.expires_at.astimezone(UTC).isoformat())
    return checked.identity


def _refusal(permission: Permission, identity: Identity, *, everywhere: bool) -> str:
    roles = " or ".join(role.value for role in roles_with(permission))
    where = "for all clusters" if everywhere else "for at least one cluster"
    said = f"this needs the {permission.value} permission {where} (role {roles})"
    for held in identity.suspended_for(permission):
        said += f"; this token holds {held.grant}, but it is suspended: {held.reason}"
    return said


async def authorized_identity(request: Request) -> Identity:
    """The identity ``authorize`` let through for this request; a 401 on an open route.

    ``authorize`` runs first on every request, as the app's dependency. It is run here too if
    it has not (its mark, ``request.state.authorized``, is missing), so a route that asks for
    the identity is safe on its own, also in an app without that dependency. Called rather than
    named as a sub-dependency: FastAPI solves a sub-dependency's dependant again for every
    dependency naming it, cached or not (its cache key, its scope, its parameters), and
    ``ScopeDep`` named it three times over (bench/results/perf.md, sixteenth session)."""
    if not getattr(request.state, "authorized", False):
        await authorize(request)
    identity: Identity | None = getattr(request.state, "identity", None)
    if identity is None:  # an open route asked for an identity: there is none
        raise HTTPException(status_code=401, detail=UNAUTHENTICATED, headers=_CHALLENGE)
    return identity


IdentityDep = Annotated[Identity, Depends(authorized_identity)]
"""The authenticated identity of the request; its ``display`` is the audit trail's actor."""


async def route_permission(request: Request) -> Permission:
    """The permission the matched route declares, once ``authorize`` let the caller through
    (``authorized_identity``: run if it has not, a 401 on an open route)."""
    await authorized_identity(request)
    permission: Permission = request.state.permission
    return permission


RoutePermissionDep = Annotated[Permission, Depends(route_permission)]
"""The permission the matched route declares in ``ROUTE_PERMISSIONS``."""
