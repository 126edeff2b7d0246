"""Destinations, read: the list, one destination, its history with diffs.

The same service calls as ``GET /api/v1/destinations[/{id}[/history]]``
(``DestinationAdmin.summaries``, ``view``, ``history``; the version notices of
``catalog.version_warnings``), narrowed to the person's clusters (``integrator.clusters``) for
``destinations.read``. The list names the refused files that are no destination's own too
(``integrator.stray_files``), as ``?stray_files=true`` does. The changes (add, edit, pause, test,
rollback) are ``destination_changes``; the page's *Send a test message* form carries a one-time
token (``integrator.console.once``, ``action_of_test``), made when the page is drawn.

The page says when the destination's certificate files expire, from the call behind the
scrape's gauge and ``destinations show`` (``DestinationAdmin.certificate_expiries``), each a
warning within ``cert_expiry.SOON_DAYS``, as the alert fires. A destination removed since is
no bare "not found": its page says when, by whom and why (``gone_page``, from its history,
``DestinationAdmin.removal``), to who could see it before; an id never known stays a 404.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from destinations.cert_expiry import expires_soon
from integrator.access.permissions import Permission
from integrator.catalog import shared_providers, version_warnings
from integrator.clusters import NotPermitted, OutOfSight, cluster_of
from integrator.console.errors import Forbidden, NotFound
from integrator.console.links import reads_messages_of, unrouted_route
from integrator.console.once import issue, kept_result
from integrator.console.refusals import Said, definition_problem
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.delivery import exchange_bound
from integrator.engine import Engine
from integrator.file_paths import problem_as_seen, sees_paths
from integrator.http.deps import source_of
from integrator.operators import DestinationAdmin, DestinationView, UnknownDestination
from integrator.reasons import REQUIRED_CODE
from integrator.refusal import code_of

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/destinations", "nav.destinations", P.DESTINATIONS_READ)]
Reader = Annotated[Visitor, Depends(needs(P.DESTINATIONS_READ))]


def require_destination(
    engine: Engine, visitor: Visitor, permission: Permission, destination_id: str
) -> str | None:
    """The destination's cluster, if ``visitor`` may use ``permission`` on it; as the API: 404
    when they cannot even see it, 403 when they see it but lack ``permission`` there."""
    try:
        visitor.scope(permission).check_destination(engine.catalog, destination_id)
    except OutOfSight:
        raise NotFound() from None
    except NotPermitted:
        raise Forbidden() from None
    return cluster_of(engine.catalog, destination_id)


def admin_for(request: Request, visitor: Visitor) -> DestinationAdmin:
    """The destinations service for this person, as the API builds it: changes only within
    their clusters, recorded with the client's address ("from where")."""
    scope = visitor.scope(P.DESTINATIONS_WRITE)
    return engine_of(request).admin.within(scope.allows).from_address(source_of(request))


def blank_reason(reason: str) -> Said | None:
    """Why ``reason`` is refused where the console asks why (pausing, resuming, rolling back:
    every time, the history records it), worded for beside the reason field; None if it is
    not. A form that shows it there (the pause forms) is shown again with it, 422."""
    if not reason.strip():
        return Said("a reason is required", REQUIRED_CODE)
    return None


@router.get("/destinations")
async def destination_list(request: Request, visitor: Reader) -> Response:
    engine = engine_of(request)
    scope = visitor.scope(P.DESTINATIONS_READ)
    rows, shown_strays = await engine.admin.listing(
        scope.allows,
        in_service=engine.catalog,
        reads_messages=lambda cluster: visitor.may(P.MESSAGES_READ, cluster),
    )
    # Refused files that are no destination's own: in no row, so named on their own, each
    # rule worded when shown (``t.say``), as the API's listing gives them.
    # Each file by its name, and the files its rules name too (``rename it to …``): the list
    # is one notice for every reader, so it names no server path, to operators neither.
    strays = [
        (
            stray.name,
            [(p.key, definition_problem(problem_as_seen(p, paths=False))) for p in stray.problems],
        )
        for stray in shown_strays
    ]
    return page(request, visitor, "destinations.html", rows=rows, strays=strays)


async def gone_page(
    request: Request, visitor: Visitor, destination_id: str, *, tried: bool = False
) -> Response:
    """What became of a destination no file defines: removed (when, by whom, why, as its
    history recorded it), with the way back to the list, as 410 Gone; ``tried``: a form acted
    on it after, and did nothing. ``NotFound`` for an id with no removal in its history, and
    for who could not see the destination before it went (its last definition's cluster)."""
    removal = await engine_of(request).admin.removal(destination_id)
    if removal is None:
        raise NotFound()
    try:
        visitor.scope(P.DESTINATIONS_READ).check([removal.cluster])
    except (OutOfSight, NotPermitted):
        raise NotFound() from None
    return page(request, visitor, "destination_gone.html", status=410, removal=removal, tried=tried)


def certificates(engine: Engine, view: DestinationView) -> list[dict[str, Any]]:
    """When each of the destination's certificate files expires, with the days left and
    whether that is to be said as a warning (``expires_soon``: expired, or as the alert)."""
    now = engine.clock.now()
    return [
        {
            "file": name,
            "at": at,
            "days": (at - now).days,
            "expired": at <= now,
            "soon": expires_soon(at, now),
        }
        for name, at in engine.admin.certificate_expiries(view).items()
    ]


async def destination_context(
    engine: Engine, visitor: Visitor, destination_id: str
) -> dict[str, Any]:
    """What the destination page shows ``visitor``: the definition in service, its refusals
    (the server's paths in them only to who may change the destination, else the files'
    names: ``integrator.file_paths``), its notices (another destination serving one of its
    providers named only when ``visitor`` may see that one too), the refused hand edits kept
    beside its file, since when it is paused and when it was last resumed (a message's
    max_age counts from that resume at the earliest), its last delivery attempt, and the
    one-time token of its test form for who may send a test message to it."""
    try:
        view = await engine.admin.view(destination_id)
    except UnknownDestination:
        raise NotFound() from None
    config = view.config
    readable = visitor.scope(P.DESTINATIONS_READ).allows
    paths = sees_paths(visitor.signed_in, cluster_of(engine.catalog, view.id))
    notices: list[str] = (
        [
            *version_warnings(config, today=engine.today(), source=view.file, in_service=True),
            # Naming only the destinations the person may see (docs/access.md).
            *shared_providers(config, engine.catalog, shown=lambda d: readable(d.cluster)),
        ]
        if config is not None
        else []
    )
    cluster = config.cluster if config else None
    tests = config is not None and visitor.may(P.DESTINATIONS_TEST, cluster)
    # Its messages waiting out a retry's backoff, for who may try them now (``pages.try_now``);
    # none offered while it is paused, as nothing would attempt them before its resume.
    retrying = (
        await engine.store.count_waiting_retries(view.id, now=engine.clock.now())
        if config is not None
        and config.enabled
        and visitor.may(P.MESSAGES_RESEND, cluster_of(engine.catalog, view.id))
        else 0
    )
    return {
        # Links only where the reader may open them (``console.links``).
        "reads_messages": reads_messages_of(engine.catalog, visitor, view.id),
        "unrouted_route": functools.partial(unrouted_route, engine.settings, visitor),
        "retrying": retrying,
        # Why it is not delivering, if it is not: its last attempt (``dashboard.last_attempt``,
        # as its tile says it), the reason shown to who may read the messages of its cluster.
        "last_attempt": await engine.admin.last_attempt(view.id),
        "messages_cluster": cluster_of(engine.catalog, view.id),
        "view": view,
        "config": config,
        "cluster": cluster,
        # Each refused key of a broken file, its rule worded when shown (``t.say``).
        "problems": [
            (problem.key, definition_problem(problem_as_seen(problem, paths=paths)))
            for problem in (view.broken.problems if view.broken else ())
        ],
        "notices": notices,
        # Refused hand edits kept beside its file, as the list names them; the template shows
        # them to who may change the destination (who may see its file).
        "refused_copies": engine.admin.refused_copies(view),
        "pauses": await engine.admin.pause_times(view.id),
        # When its TLS certificates expire, as the scrape's gauge and destinations show say.
        "certificates": certificates(engine, view),
        # The one-time token of its *Send a test message* form, shown to who may send one.
        "test_once": await issue(engine, visitor, action_of_test(view.id)) if tests else "",
        # How long that test may wait, as its hint says: connect (and TLS handshake) and ACKs.
        "test_wait": exchange_bound(config) if tests and config is not None else None,
    }


TEST_ACTION: Final = "destination.test"


def action_of_test(destination_id: str) -> str:
    """What the one-time token of a destination's test form confirms: one test message to
    that destination, no other. Hashed: the store keeps at most 100 characters of it, and an
    id may be that long."""
    return f"{TEST_ACTION}:{hashlib.sha256(destination_id.encode()).hexdigest()[:40]}"


CHANGE_ACTION: Final = "destination.change"
"""What a kept change's warnings are filed under (``once.kept``)."""


def kept_warning(warning: object) -> dict[str, Any]:
    """A change's warning as kept for the page after the redirect: its English, and its code
    and values when it is a coded note (a provider another destination serves too)."""
    code, values = code_of(warning)
    return {"text": str(warning), "code": code, "values": {k: _kept(v) for k, v in values.items()}}


def _kept(value: object) -> str | list[str]:
    """A warning's value as JSON keeps it: a list stays a list (the page joins its items in
    the person's language), where ``str`` made it Python's ``['lab-west']``."""
    if isinstance(value, list | tuple | frozenset | set):
        return [str(item) for item in value]
    return str(value)


def shown_warnings(
    result: Any, destination_id: str, *, besides: Collection[str] = ()
) -> list[object]:
    """The warnings kept by ``kept_warning`` for ``destination_id``, to say with ``t.notice``:
    a coded one as a ``Said``, a sentence as its text; none whose English is in ``besides``
    (what the page says anyway)."""
    if not isinstance(result, dict) or result.get("destination") != destination_id:
        return []
    shown: list[object] = []
    for warning in result.get("warnings") or []:
        text = str(warning.get("text", ""))
        if text in besides:
            continue
        code = warning.get("code")
        shown.append(Said(text, code, values=warning.get("values") or {}) if code else text)
    return shown


@router.get("/destinations/{destination_id}")
async def destination(
    request: Request,
    visitor: Reader,
    destination_id: str,
    saved: int | None = None,
    change: Annotated[str, Query(max_length=64)] = "",
    tried: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    unchanged: bool = False,
) -> Response:
    """``tried``: back from *Try the waiting retries now* (``pages.try_now``), with how many
    it made due; ``unchanged``: back from a save that changed nothing, so recorded nothing."""
    engine = engine_of(request)
    try:
        require_destination(engine, visitor, P.DESTINATIONS_READ, destination_id)
        context = await destination_context(engine, visitor, destination_id)
    except NotFound:
        # Removed since (the browser's Back after removing it): said so, not "not found".
        return await gone_page(request, visitor, destination_id)
    result = await kept_result(engine, visitor, CHANGE_ACTION, change) if change else None
    # A change's warning that is also one of the page's own notices now (a provider another
    # destination serves) is said once, as the notice.
    current = {str(notice) for notice in context["notices"]}
    warnings = shown_warnings(result, destination_id, besides=current)
    return page(
        request,
        visitor,
        "destination.html",
        saved=saved,
        unchanged=unchanged and saved is None,
        change_warnings=warnings,
        tried=tried,
        **context,
    )


@router.get("/destinations/{destination_id}/history")
async def history(request: Request, visitor: Reader, destination_id: str) -> Response:
    engine = engine_of(request)
    cluster = require_destination(engine, visitor, P.DESTINATIONS_READ, destination_id)
    try:
        revisions = await engine.admin.history(destination_id)
    except UnknownDestination:
        raise NotFound() from None
    return page(
        request,
        visitor,
        "destination_history.html",
        destination_id=destination_id,
        cluster=cluster,
        revisions=list(reversed(revisions)),
    )
