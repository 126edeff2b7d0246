"""Who is looking at a console page, and what they may do: the dependencies every page declares.

``VisitorDep`` is anybody (the sign-in and invitation pages); ``PersonDep`` is a signed-in
person, else a redirect to sign in; ``needs(permission)`` also asks ``Identity.may_somewhere``
and answers 403 without it, like the API's ``authorize``. Inside a page, narrowing to the
person's clusters is ``Visitor.scope(permission)``: the same ``ClusterScope``
(``integrator.clusters``) the API's routes narrow with, so the console sees and touches exactly
what the same person's token would.

Every POST is checked here before the page runs (``session.post_is_genuine``): a forged one is
refused whatever the page would have done.

Every request also states why it may look at patient data (``integrator.stated_reason``): the
reason its session was given (``pages.why``), or none, whether anybody is signed in or not,
so that no view or export a page records is explained by what another request stated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from integrator.access.permissions import Identity, Permission
from integrator.clusters import ClusterScope
from integrator.console import answer_needs, i18n
from integrator.console.errors import Forbidden, LoginNeeded, PatientDataInAddress, Refused
from integrator.console.session import (
    csrf_token,
    engine_of,
    new_presession,
    post_is_genuine,
    presession_secret,
    session_identity,
    session_secret,
)
from integrator.http.query import is_bsn_key
from integrator.stated_reason import state


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person behind a request (``identity`` None before sign-in) and their page settings.

    ``csrf`` is the token this visitor's forms carry; ``fresh_presession`` is a pre-session
    secret to hand out as a cookie with the page (the visitor had none yet).
    """

    identity: Identity | None
    lang: str
    csrf: str
    session: str | None
    fresh_presession: str | None = None

    @property
    def signed_in(self) -> Identity:
        if self.identity is None:
            raise LoginNeeded()
        return self.identity

    def may(self, permission: Permission, cluster: str | None = None) -> bool:
        return self.identity is not None and self.identity.may(permission, cluster)

    def may_somewhere(self, permission: Permission) -> bool:
        return self.identity is not None and self.identity.may_somewhere(permission)

    def scope(self, permission: Permission) -> ClusterScope:
        """The cluster narrowing for ``permission``, for this person (as the API's)."""
        return ClusterScope(self.signed_in, permission)

    @property
    def reason(self) -> str | None:
        """Why this person said they look at patient data in this session (None: not said)."""
        return None if self.identity is None else self.identity.session_reason

    @property
    def actor(self) -> str:
        """What the audit trail records: ``person:<email>``."""
        return self.signed_in.display


async def read_visitor(
    request: Request, *, check_post: bool = True, ask_store: bool = True
) -> Visitor:
    """The visitor of ``request``; with ``check_post``, a POST not from our own page is refused.
    Without ``ask_store`` (a page saying the store is down) nobody is signed in."""
    lang = i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))
    raw = session_secret(request) if ask_store else None
    identity = await session_identity(request) if raw else None
    # First, before anything can be read: this session's why, or none, never a former one's;
    # where the engine requires one, a view without it is sent to give it (``errors``).
    required = ask_store and engine_of(request).settings.reason_required
    state(identity.session_reason if identity is not None else None, required=required)
    stale = raw is not None and identity is None
    fresh: str | None = None
    if identity is not None and raw is not None:
        secret = raw
    else:
        raw = None
        existing = presession_secret(request)
        if existing is None:
            fresh = new_presession()
        secret = existing or fresh or ""
    if (
        check_post
        and request.method not in ("GET", "HEAD")
        and not await post_is_genuine(request, None if fresh else secret)
    ):
        # A form of a session that has since ended: sign in again (nothing was done).
        raise LoginNeeded() if stale else Refused()
    return Visitor(
        identity=identity, lang=lang, csrf=csrf_token(secret), session=raw, fresh_presession=fresh
    )


async def refuse_patient_data_in_address(request: Request) -> None:
    """No BSN in the address of any console page: a dependency of the whole console.

    A BSN only ever travels in a POST body (the search forms). A query key naming one
    (``?bsn=…``) is refused, never ignored: a search that ignored it would show every message
    while the person believes it is one patient's, and the address has put the BSN into logs
    and the browser's history already. It runs before the page's own dependencies, so nobody
    is sent to sign in with it in their return address, and the refusal never shows it.
    """
    if any(is_bsn_key(key) for key in request.query_params):
        raise PatientDataInAddress()


async def _visitor(request: Request) -> Visitor:
    return await read_visitor(request)


VisitorDep = Annotated[Visitor, Depends(_visitor)]
"""Anybody; a POST is refused unless it comes from the console's own page (see ``session``)."""


async def _person(visitor: VisitorDep) -> Visitor:
    if visitor.identity is None:
        raise LoginNeeded()
    return visitor


PersonDep = Annotated[Visitor, Depends(_person)]
"""A signed-in person; anybody else is sent to sign in."""


def needs(permission: Permission) -> Callable[[Request, Visitor], Awaitable[Visitor]]:
    """A dependency: a signed-in person holding ``permission`` in at least one cluster, else
    403. Which clusters, the page narrows with ``Visitor.scope``. What it needed is written
    down for the request's kept answer (``answer_needs``)."""

    async def check(request: Request, visitor: PersonDep) -> Visitor:
        if not visitor.may_somewhere(permission):
            raise Forbidden(permission)
        # A form's answer kept by this request is shown again only while this still holds.
        answer_needs.record(request, visitor.signed_in, permission)
        return visitor

    return check
