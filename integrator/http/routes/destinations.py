"""``/api/v1/destinations``: operators' changes through ``DestinationAdmin``, like the CLI.

The rules live in the service; a route only maps its refusals to a status and, where the way
out differs from the CLI's, says it in API terms (``?force=true``, ``PATCH``).

Within the caller's clusters (``integrator.http.scope``): the listing holds their destinations,
one outside them is a 404 like an unknown id (a 403 for one the caller can see but not change),
and a change that would put a destination in a cluster outside them is a 403; so is, for a
caller held to some clusters, one that makes a destination serve a provider a destination
outside them serves, or adds one under such a destination's id (``DestinationAdmin``). Changes are
recorded under the caller's identity; why goes in the ``X-Integrator-Reason`` header, as the
body is the definition itself. ``PUT`` and ``PATCH`` take ``?expected_revision=N``, the
``revision`` a ``GET`` showed: the change is made only if the destination is still at it, else
409 naming the revision it is at, who made it and what changed (optimistic concurrency: a
client that read, changed and wrote back never undoes a change made in between unseen). A TLS
file a change names must lie in the directory of the destination's cluster in the TLS directory
(``INTEGRATOR_TLS_DIR``), else 422 before it is looked at: the service's rule
(``destinations.tls_dir``), as the console's, not the CLI's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from destinations.cert_expiry import SOON_DAYS, CertificateFile
from destinations.config import EventType
from integrator.access.errors import AccessDenied
from integrator.access.permissions import Permission
from integrator.errors import PermanentError
from integrator.file_paths import file_as_seen, sees_paths
from integrator.http.bodies import INT_MAX
from integrator.http.deps import (
    REASON_HEADER,
    EngineDep,
    ReasonDep,
    Revision,
    SourceDep,
    json_object,
)
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import (
    DESTINATION_BODY,
    DESTINATION_PATCH_BODY,
    answer,
    model_answer,
)
from integrator.http.scope import ScopeDep, cluster_of
from integrator.operators import (
    Change,
    DefinitionRefused,
    DestinationBusy,
    DestinationChanged,
    DestinationPaused,
    MissingKeys,
    State,
    UnknownDestination,
    problem_view,
)
from integrator.presenters import iso_time
from integrator.try_now import NO_DESTINATION

router = APIRouter(prefix="/api/v1", tags=["destinations"], route_class=JsonBodyRoute)


def _no_destination() -> HTTPException:
    """404 for a destination id that names none (or one outside the caller's clusters): said
    without the id, as the API never repeats a value it was sent."""
    return HTTPException(status_code=404, detail=NO_DESTINATION)


async def _within_scope(destination_id: str, engine: EngineDep, scope: ScopeDep) -> str:
    """The path's destination id, if it lies in the caller's clusters; else 404 as unknown."""
    scope.require_destination(engine.catalog, destination_id, missing=_no_destination())
    return destination_id


DestinationId = Annotated[str, Depends(_within_scope)]
"""A ``{destination_id}`` of the path that the caller may see and use with the route."""

ExpectedRevision = Annotated[
    int | None,
    Query(
        ge=1,
        le=INT_MAX,
        description=(
            "the destination's revision the change was made to (the `revision` of `GET "
            "/api/v1/destinations/{destination_id}`): if it is at another one now, nothing is "
            "changed and the answer is 409 naming that revision. Leave out to change whatever "
            "is in service."
        ),
    ),
]

ETAG: Final = "ETag"
"""The revision a destination's answer shows, as an entity tag: ``"3"`` (strong, quoted)."""


def etag_of(revision: int) -> str:
    return f'"{revision}"'


def _revision_of_tag(if_match: str) -> int | None:
    """The revision an ``If-Match`` names (``"3"``), or None for ``*`` (whatever is there)."""
    tag = if_match.strip()
    if tag == "*":
        return None
    if tag.startswith("W/"):
        raise HTTPException(
            status_code=422,
            detail=(
                "If-Match: a weak entity tag never matches a change (RFC 9110); send the "
                'ETag of a GET as it is, such as "3"'
            ),
        )
    number = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else ""
    if not number.isdigit() or not 1 <= int(number) <= INT_MAX:
        raise HTTPException(
            status_code=422,
            detail=(
                "If-Match: must be one entity tag of a destination's revision, the ETag of a "
                'GET such as "3", or *'
            ),
        )
    return int(number)


async def _expected_revision(
    expected_revision: ExpectedRevision = None,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=40,
            description=(
                'The `ETag` of a `GET` (`"3"`): as `expected_revision`, the change is made only '
                "if the destination is still at that revision, else 409 and nothing is changed. "
                "Given with a different `expected_revision`: 422."
            ),
        ),
    ] = None,
) -> int | None:
    """The revision a change is made to: ``?expected_revision=N`` or ``If-Match: "N"``."""
    if if_match is None:
        return expected_revision
    tagged = _revision_of_tag(if_match)
    if tagged is None:
        return expected_revision
    if expected_revision is not None and expected_revision != tagged:
        raise HTTPException(
            status_code=422,
            detail=(
                f"If-Match names revision {tagged} and expected_revision {expected_revision}: "
                "give one, or both the same"
            ),
        )
    return tagged


Expected = Annotated[int | None, Depends(_expected_revision)]
"""``expected_revision`` of the query, or the revision an ``If-Match`` header names."""


CHANGED_SINCE: Final[dict[int | str, dict[str, Any]]] = {
    409: answer(
        "The destination is no longer at `expected_revision` (or the `If-Match` revision); "
        "nothing was changed. "
        "`detail` names the revision it is at, who made it, when and why, and the keys "
        "it changed."
    )
}
"""``responses`` of the routes that take ``expected_revision``."""

STILL_WAITING: Final[dict[int | str, dict[str, Any]]] = {
    409: answer(
        "Messages are still waiting for the destination; nothing was removed. `detail` says "
        "how many; repeat with `?force=true` to remove it anyway (they become dead letters)."
    )
}
"""``responses`` of ``DELETE /api/v1/destinations/{id}`` (``DestinationBusy``)."""

PAUSED: Final[dict[int | str, dict[str, Any]]] = {
    409: answer("The destination is paused; nothing was sent. Repeat with `?even_if_paused=true`.")
}
"""``responses`` of ``POST /api/v1/destinations/{id}/test`` (``DestinationPaused``)."""


async def _tagged(
    engine: EngineDep, destination_id: str, answer: dict[str, Any], response: Response
) -> dict[str, Any]:
    """``answer`` with the destination's revision now as its ``ETag`` (a change that changed
    nothing recorded none: the revision in service then)."""
    revision = answer.get("revision")
    if revision is None:
        try:
            revision = (await engine.admin.view(destination_id)).revision
        except UnknownDestination:
            revision = None
    if revision is not None:
        response.headers[ETAG] = etag_of(revision)
    return answer


async def _change(call: Awaitable[Change]) -> dict[str, Any]:
    try:
        change = await call
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except UnknownDestination:
        raise _no_destination() from None
    except DestinationChanged as exc:
        # In UTC, as every time the API answers (the console and CLI tell the engine's zone).
        raise HTTPException(status_code=409, detail=exc.told_in(UTC)) from None
    except DestinationBusy as exc:
        raise HTTPException(
            status_code=409, detail=exc.explain("repeat with ?force=true")
        ) from None
    except MissingKeys as exc:
        detail = f"{exc}; to change only some keys, send a PATCH"
        raise HTTPException(status_code=422, detail=detail) from None
    except DefinitionRefused as exc:
        detail = exc.told_by_file_name()
        if any(problem.key == "reason" for problem in exc.problems):
            # Callers put it in the body, as a resend's body takes one: say where it goes.
            detail += f"; a change's reason goes in the {REASON_HEADER} header"
        raise HTTPException(status_code=422, detail=detail) from None
    except PermanentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return change.to_json()


STRAY_COUNT: Final = "X-Integrator-Stray-Files"
"""How many refused files that are no destination's own the caller may see (``stray_files``),
on the plain listing, whose body stays a list of destinations for the clients that read it."""

STRAY_HEADER: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": (
            "A list of destinations; with `stray_files=true` an object: `destinations` (that "
            "list) and `stray_files`, each refused file that is no destination's own as "
            "`{file, claims, problems}`"
        ),
        "headers": {
            STRAY_COUNT: {
                "description": (
                    "How many refused files that are no destination's own (`lab-west.yml`) "
                    "there are; ask `stray_files=true` for them"
                ),
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
}

WithStrayFiles = Annotated[
    bool,
    Query(
        description=(
            "Answer an object instead of the list: `destinations` (the list) and "
            "`stray_files`, the refused files that are no destination's own (a name not of "
            "the form `<id>.yaml`, such as `lab-west.yml`), which change nothing in service, "
            "each with `file`, `claims` (the destination whose id it claims, or null) and "
            "`problems` (each `{file, key, code, rule}`); a file's server path only to who "
            "may change the destination files of its cluster, else its name (`lab-west.yml`)"
        )
    ),
]


@router.get("/destinations", responses=STRAY_HEADER)
async def list_destinations(
    engine: EngineDep, scope: ScopeDep, response: Response, stray_files: WithStrayFiles = False
) -> list[dict[str, Any]] | dict[str, Any]:
    """The destinations of the caller's clusters, broken ones included; and, asked for, the
    refused files that are no destination's own, which are in no destination's row.

    Each row's ``dead_letters`` counts its open dead letters, as ``GET /api/v1/deadletters``
    lists them (not discarded, no later resend delivered); ``counts`` holds the messages per
    status, so ``counts.dead`` also counts the dead letters a delivered resend resolved.
    ``last_attempt``: its last delivery attempt, as ``GET /api/v1/destinations/{id}`` gives it
    (``at``, ``outcome``, ``ack_code``, ``reason``: the engine's own words to anyone, a
    negative ACK by its code only to who may read the cluster's messages, else null;
    ``retrying``: the messages still retrying behind it), null before any; read for all the
    rows at once."""
    rows, strays = await engine.admin.listing(
        scope.allows,
        in_service=engine.catalog,
        paths=lambda dest_id: sees_paths(scope.identity, cluster_of(engine.catalog, dest_id)),
        reads_messages=lambda cluster: scope.identity.may(Permission.MESSAGES_READ, cluster),
    )
    if stray_files:
        return {
            "destinations": rows,
            "stray_files": [s.to_json(paths=sees_paths(scope.identity, s.cluster)) for s in strays],
        }
    response.headers[STRAY_COUNT] = str(len(strays))
    return rows


class PausedBy(BaseModel):
    """The change that paused a destination that is paused now (its history's revision)."""

    model_config = ConfigDict(extra="forbid")

    revision: int
    at: datetime
    actor: str
    action: str = Field(description="`pause`, `update`, a hand `edit`, `add`, as the history says")
    reason: str | None


class DestinationShown(BaseModel):
    """What ``GET /api/v1/destinations/{destination_id}`` answers, every key named: a client
    generated from the document reads ``certificates_expire`` as the times they are. The route
    answers its dict; this describes it (a test validates a real answer against it)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    file: str = Field(
        description="its file: the server's path to who may change the destination, else "
        "the file's name"
    )
    state: State
    problem: dict[str, str | None] | None = Field(
        description="a broken one's first refusal (`file`, `key`, `code`, `rule`), else null"
    )
    problems: list[dict[str, str | None]]
    revision: int | None = Field(description="the recorded revision in service (the `ETag`)")
    definition: dict[str, Any] | None = Field(
        description="the definition in service (a broken one's last good one), as `PUT` "
        "takes it; null when none is known"
    )
    warnings: list[str] = Field(description="what its message versions warn of today")
    refused_copies: list[dict[str, Any]] = Field(
        description="refused hand edits kept beside its file (`file`, `kept_at`, `age_seconds`)"
    )
    paused_at: datetime | None
    resumed_at: datetime | None
    paused_by: PausedBy | None = Field(
        description="while it is paused, the change that paused it: who, when and why"
    )
    last_attempt: dict[str, Any] | None
    certificates_expire: dict[CertificateFile, datetime] = Field(
        description=(
            "when each certificate file its TLS settings name stops being valid (the earliest "
            "`notAfter` in it), by key (`cert_file`, `ca_file`), in UTC; a file that cannot "
            "be read is left out (the destination is refused for it), and one without TLS "
            f"has none. Within {SOON_DAYS} days it is to be renewed: the alert "
            "`IntegratorCertificateExpiresSoon` fires, and `integrator destinations show` "
            "and the console warn"
        )
    )


DESTINATION_SHOWN: Final = model_answer(DestinationShown)


@router.get(
    "/destinations/{destination_id}",
    response_model=None,
    responses={200: answer("The destination", DESTINATION_SHOWN)},
)
async def get_destination(
    destination_id: DestinationId, engine: EngineDep, scope: ScopeDep, response: Response
) -> dict[str, Any]:
    """The definition in service; a broken one's last good definition, with why it is broken;
    ``paused_at``, since when it is paused (``null``: not paused now, or no engine has seen the
    pause yet), and ``resumed_at``, when an engine last saw it resumed (``null``: never);
    ``paused_by``, while it is paused, the change that paused it (``revision``, ``at``,
    ``actor``, ``action``, ``reason``, as its history has them), else null. Its
    ``file`` and refusals name the server's paths only to who may change the destination;
    to anyone else, the files' names. ``last_attempt``: its last delivery attempt (``at``,
    ``outcome``, ``ack_code``, ``reason``: why it failed, never the receiver's text: the
    engine's own words (connection refused, timed out, a TLS handshake) to anyone who may see
    the destination; a negative ACK by its code only to who may read its cluster's messages,
    else null; ``retrying``: with ``ordering: rotate``, the messages still retrying that this
    attempt is not of, ``count``, ``since`` (when the oldest was made) and ``last_attempt``
    (the oldest's, its reason by the same rule), else null), null before any.
    ``certificates_expire``: when its TLS certificate files expire, as ``integrator
    destinations show --json`` says it (in UTC here)."""
    try:
        view = await engine.admin.view(destination_id)
    except UnknownDestination:
        raise _no_destination() from None
    config = view.config
    notices = engine.admin.version_notices(view)
    problems = view.broken.problems if view.broken else ()
    cluster = cluster_of(engine.catalog, view.id)
    paths = sees_paths(scope.identity, cluster)
    attempt = await engine.admin.last_attempt(view.id)
    reads = scope.identity.may(Permission.MESSAGES_READ, cluster)
    if view.revision is not None:
        response.headers[ETAG] = etag_of(view.revision)
    return {
        "id": view.id,
        "file": file_as_seen(view.file, paths=paths),
        "state": view.state,
        "problem": problem_view(problems[0], paths=paths) if problems else None,
        "problems": [problem_view(p, paths=paths) for p in problems],
        "revision": view.revision,
        "definition": config.model_dump(mode="json") if config is not None else None,
        "warnings": notices,
        # Refused hand edits kept beside the file, as the list names them (``refused_edits``).
        "refused_copies": engine.admin.refused_copies(view),
        # Where a message's max_age counts from at the earliest (destinations.retry.age_start).
        **await engine.admin.pause_times(view.id),
        # Why it is not delivering, if it is not; a negative ACK to who may read its messages.
        "last_attempt": attempt.to_json(reads_messages=reads) if attempt is not None else None,
        # What the scrape's gauge and its alert say, where one destination is looked at.
        "certificates_expire": {
            name: iso_time(at) for name, at in engine.admin.certificate_expiries(view).items()
        },
    }


@router.post("/destinations", status_code=201, openapi_extra=DESTINATION_BODY)
async def add_destination(
    request: Request, engine: EngineDep, scope: ScopeDep, source: SourceDep, reason: ReasonDep
) -> dict[str, Any]:
    """Add a destination; only in a cluster where the caller may manage destinations."""
    definition = await json_object(request)
    admin = engine.admin.within(scope.allows).from_address(source)
    return await _change(admin.add(definition, actor=scope.actor, reason=reason))


@router.put(
    "/destinations/{destination_id}", openapi_extra=DESTINATION_BODY, responses=CHANGED_SINCE
)
async def replace_destination(
    destination_id: DestinationId,
    request: Request,
    response: Response,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
    expected_revision: Expected,
) -> dict[str, Any]:
    """Replace the whole definition: every key, as ``GET`` shows it."""
    definition = await json_object(request)
    admin = engine.admin.within(scope.allows).from_address(source)
    changed = await _change(
        admin.replace(
            destination_id,
            definition,
            actor=scope.actor,
            reason=reason,
            expected_revision=expected_revision,
        )
    )
    return await _tagged(engine, destination_id, changed, response)


@router.patch(
    "/destinations/{destination_id}",
    openapi_extra=DESTINATION_PATCH_BODY,
    responses=CHANGED_SINCE,
)
async def patch_destination(
    destination_id: DestinationId,
    request: Request,
    response: Response,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
    expected_revision: Expected,
) -> dict[str, Any]:
    """Change some keys: a JSON merge patch (RFC 7386); ``null`` takes a key back to default."""
    changes = await json_object(request)
    admin = engine.admin.within(scope.allows).from_address(source)
    changed = await _change(
        admin.patch(
            destination_id,
            changes,
            actor=scope.actor,
            reason=reason,
            expected_revision=expected_revision,
        )
    )
    return await _tagged(engine, destination_id, changed, response)


@router.delete("/destinations/{destination_id}", responses=STILL_WAITING)
async def remove_destination(
    destination_id: DestinationId,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
    force: bool = False,
) -> dict[str, Any]:
    return await _change(
        engine.admin.from_address(source).remove(
            destination_id, actor=scope.actor, force=force, reason=reason
        )
    )


@router.post("/destinations/{destination_id}/pause")
async def pause_destination(
    destination_id: DestinationId,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
) -> dict[str, Any]:
    admin = engine.admin.within(scope.allows).from_address(source)
    return await _change(admin.set_enabled(destination_id, False, actor=scope.actor, reason=reason))


@router.post("/destinations/{destination_id}/resume")
async def resume_destination(
    destination_id: DestinationId,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
) -> dict[str, Any]:
    admin = engine.admin.within(scope.allows).from_address(source)
    return await _change(admin.set_enabled(destination_id, True, actor=scope.actor, reason=reason))


LastRevisions = Annotated[
    int | None,
    Query(
        ge=1,
        le=INT_MAX,
        description=(
            "only the newest this many revisions (still oldest first); leave out for every one. "
            "A destination paused and resumed daily gains two revisions a day."
        ),
    ),
]


@router.get("/destinations/{destination_id}/history")
async def destination_history(
    destination_id: DestinationId, engine: EngineDep, last: LastRevisions = None
) -> list[dict[str, Any]]:
    try:
        return await engine.admin.history(destination_id, last=last)
    except UnknownDestination:
        raise _no_destination() from None


@router.post("/destinations/{destination_id}/rollback/{revision}", responses=CHANGED_SINCE)
async def rollback_destination(
    destination_id: DestinationId,
    revision: Revision,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    reason: ReasonDep,
    expected_revision: Expected,
) -> dict[str, Any]:
    """Restore ``revision``; whether the destination is paused stays as it is (pause and resume
    are their own actions). With ``?expected_revision=N``, only if it is still at N."""
    admin = engine.admin.within(scope.allows).from_address(source)
    return await _change(
        admin.rollback(
            destination_id,
            revision,
            actor=scope.actor,
            reason=reason,
            expected_revision=expected_revision,
        )
    )


@router.post("/destinations/{destination_id}/test", responses=PAUSED)
async def send_test_message(
    destination_id: DestinationId,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    event_type: Annotated[
        EventType | None,
        Query(description="The kind of test message (default: the destination's first)."),
    ] = None,
    even_if_paused: bool = Query(
        False, description="Send it although the destination is paused (audited as such)."
    ),
) -> Any:
    """One test message (MSH-11 ``T``) on its own connection. A paused destination: 409 saying
    so, nothing sent, unless ``even_if_paused=true``."""
    try:
        admin = engine.admin.from_address(source)
        result = await admin.test(
            destination_id, event_type, actor=scope.actor, even_if_paused=even_if_paused
        )
    except UnknownDestination:
        raise _no_destination() from None
    except DestinationPaused as exc:
        detail = exc.explain("repeat with ?even_if_paused=true")
        raise HTTPException(status_code=409, detail=detail) from None
    except PermanentError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return result.__dict__
