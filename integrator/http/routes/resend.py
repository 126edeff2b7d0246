"""Resending: one message, or a selection as a job followed at ``/api/v1/jobs/{id}``.

Which messages are resent or skipped is ``deadletter.resend``'s decision, for the dry run as
for the job; who may resend what is ``integrator.message_service``'s (``check_resend``, and
``resend_message`` for one message, which the console calls too): a message outside the
caller's clusters is unknown (404), a filter finds only messages inside them, and a resend
``to`` another destination needs the permission in that destination's cluster too (one outside
the caller's clusters is answered as one that is not configured). The routes only translate
the decisions into HTTP.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Response

from deadletter import (
    DeadLetterError,
    ResendRequest,
    ResendResult,
    Selection,
    UnknownMessageId,
    checked_reason,
    refusals,
)
from integrator import message_service
from integrator.clusters import NotPermitted
from integrator.engine import Engine
from integrator.http.bodies import BatchResendBody, MessageResendBody, ResendBody
from integrator.http.deps import (
    EngineDep,
    JobsDep,
    SourceDep,
    bad_search,
    id_in_path,
    search_headers,
    terms_of,
)
from integrator.http.idempotency import KEY_ANSWERS, IdempotencyKey, answered_once
from integrator.http.json_body import JsonBodyRoute
from integrator.http.message_ids import MessageNamed
from integrator.http.openapi import JOB, RESEND_PLAN, STARTED_JOB, answer
from integrator.http.scope import Scope, ScopeDep, forbidden
from integrator.idempotency import Answer
from integrator.jobs import JOB_PERMISSIONS, Job
from integrator.message_reads import elsewhere
from integrator.message_service import whole_or_stopped
from integrator.resending import engine_renderer, resend_in_engine
from integrator.search import BadSearch
from integrator.store import MessageFilter

router = APIRouter(prefix="/api/v1", tags=["resend"], route_class=JsonBodyRoute)


def _request(
    body: ResendBody, scope: Scope, job_id: str | None, source: str | None
) -> ResendRequest:
    return ResendRequest(
        reason=body.reason,
        actor=scope.actor,
        mode=body.mode,
        to=body.to,
        job_id=job_id,
        source=source,
    )


def outcome_json(
    results: list[ResendResult],
    *,
    dry_run: bool,
    actor: str,
    seen: Collection[str] | None = None,
) -> dict[str, Any]:
    """Counts and every message's outcome with why, as the dry run answers it; ``actor`` is
    who the real run would be recorded as, which a client (the CLI) cannot know by itself;
    ``seen``: the destinations the caller may see, the only ones a note names."""
    return {
        "dry_run": dry_run,
        "actor": actor,
        "total": len(results),
        "resend": sum(r.goes_out for r in results),
        "skip": sum(not r.goes_out for r in results),
        "results": [r.to_json(seen) for r in results],
    }


@router.post(
    "/messages/{message_id}/resend",
    status_code=201,
    responses={
        409: answer(
            "Nothing was sent: another resend of the message was made after "
            "`expected_newest_resend` (the detail names it), or the first request with this "
            "`Idempotency-Key` is still in progress (repeat it in a moment for its answer)"
        )
    },
)
async def resend_message(
    message_id: MessageNamed,
    body: MessageResendBody,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Resend one message (a new, linked message; audited under the caller's identity).

    The message is named, so an earlier resend never stops it; what cannot be resent at all
    (still in delivery, held, no bytes) is a 422 with why. Each request resends again: a
    client that may repeat one (after a timeout) sends an ``Idempotency-Key``. A client that
    showed a person the resends made already sends the newest it showed
    (``expected_newest_resend``): one made since is a 409 naming it, and nothing is sent.
    """

    async def resend() -> Answer:
        try:
            result = await message_service.resend_message(
                engine,
                scope,
                message_id,
                reason=body.reason,
                mode=body.mode,
                to=body.to,
                source=source,
                expected_newest=body.expected_newest_resend,
            )
        except message_service.ResentSince as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        except message_service.MessageNotFound:
            raise HTTPException(status_code=404, detail=message_service.NO_MESSAGE) from None
        except NotPermitted as refusal:
            raise forbidden(refusal) from None
        except DeadLetterError as exc:  # also ``NotResent``: its text is the skip's note
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return Answer(201, result.to_json())

    return await answered_once(
        engine,
        scope.identity,
        idempotency_key,
        response,
        route=f"POST /api/v1/messages/{message_id}/resend",
        body=_keyed(body),
        work=resend,
    )


def _keyed(body: MessageResendBody) -> dict[str, Any]:
    """The body as its ``Idempotency-Key`` matches it: without ``expected_newest_resend`` when
    it is not given, so a request without it is the same request as before the field existed
    (one repeated across an upgrade still gets its first answer)."""
    dumped = body.model_dump(mode="json")
    if body.expected_newest_resend is None:
        del dumped["expected_newest_resend"]
    return dumped


@router.post(
    "/resend",
    status_code=202,
    responses={
        200: answer(
            "`dry_run`: what the job would do to each message, answered at once; nothing is resent",
            RESEND_PLAN,
        ),
        202: answer(
            "The job that resends them, with `actor` (who it resends as); follow it at "
            "`/api/v1/jobs/{job_id}`",
            STARTED_JOB,
        ),
        404: answer("A `message_ids` entry names no message, or one outside the caller's clusters"),
        **KEY_ANSWERS,
    },
)
async def resend_batch(
    body: BatchResendBody,
    engine: EngineDep,
    scope: ScopeDep,
    registry: JobsDep,
    source: SourceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Resend a selection (ids and/or a filter) as a job; follow it at ``/api/v1/jobs/{id}``.

    ``dry_run`` answers at once (200) with what the job would do to each message, decided by
    the same code. The job and its progress are kept in the store, so it can be read after a
    restart (``integrator.jobs``). A filter finds the messages of the caller's clusters only;
    one by status ``sending`` gets the listing's ``X-Integrator-Note`` header, with the dry run
    and the job alike, and with their replays (the answer has no place for a note about the
    selection: each result's ``note`` is about its message). With an ``Idempotency-Key``, a
    repeat answers the first request's job (or dry run) and starts none.
    """
    return await answered_once(
        engine,
        scope.identity,
        idempotency_key,
        response,
        route="POST /api/v1/resend",
        body=body.model_dump(mode="json"),
        work=lambda: _resend_batch(body, engine, scope, registry, source),
        headers={} if body.filter is None else search_headers(terms_of(body.filter)),
    )


async def _resend_batch(
    body: BatchResendBody,
    engine: EngineDep,
    scope: Scope,
    registry: JobsDep,
    source: str | None,
) -> Answer:
    catalog = engine.catalog
    seen = scope.destination_ids(catalog)  # the only destinations a result's note names
    flt: MessageFilter | None = None
    if body.filter is not None:
        terms = terms_of(body.filter)
        try:
            flt = await message_service.checked_filter(engine, scope, terms)
        except BadSearch as exc:
            raise bad_search(exc, terms) from None
    try:
        # Checked before the selection records its view, which takes it as its why.
        reason = checked_reason(body.reason)
        selection = await message_service.select_to_resend(
            engine, scope, flt, message_ids=body.message_ids, source=source, reason=reason
        )
        message_service.check_resend(catalog, scope, selection, body.to)
        if body.named_ids is not None:
            selection = selection.naming(body.named_ids)
        # Selected nothing by a ZD number: kept on the job, which says where the referral went.
        unmatched = flt.zd_number if flt is not None and not selection else None
        if body.dry_run:
            planned = await resend_in_engine(
                engine, selection, _request(body, scope, None, source), dry_run=True
            )
            # Answered at once (200), with the note ``resend_batch`` puts on it; by a ZD
            # number or, answered to who selected by it, by the patient's BSN.
            plan = outcome_json(planned, dry_run=True, actor=scope.actor, seen=seen)
            went = None if flt is None or selection else await elsewhere_json(engine, scope, flt)
            if went is not None:
                plan["elsewhere"] = went
            return Answer(200, plan)
        refusals(selection, _request(body, scope, None, source), engine_renderer(engine))
    except UnknownMessageId as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None

    # Asked between chunks: a token revoked meanwhile stops the job, not its last message.
    allowed = message_service.still_permitted(engine, scope, selection, body.to)

    async def run_resend(job: Job, selected: Selection) -> list[dict[str, Any]]:
        def progress(done: int, _total: int) -> None:
            job.done = done

        results = await resend_in_engine(
            engine,
            selected,
            _request(body, scope, job.id, source),
            progress=progress,
            allowed=allowed,
        )
        answered = [r.to_json(seen) for r in results]
        return whole_or_stopped("resend", answered, done=len(results), total=len(selected))

    job = await registry.start(
        "resend",
        len(selection),
        lambda job: run_resend(job, selection),
        # Its results name what the starter may see: only who sees as much may read them.
        clusters=scope.clusters_held(),
        unmatched_zd=unmatched,
    )
    # Who the job resends as: the CLI reports it (the audit log's name, not the local user).
    return Answer(202, {**job.to_json(), "actor": scope.actor})


@router.get(
    "/jobs/{job_id}",
    response_model=None,
    responses={200: answer("The job and its progress", JOB)},
)
async def get_job(
    job_id: str, registry: JobsDep, scope: ScopeDep, engine: EngineDep
) -> dict[str, Any]:
    """A job, for those who hold its work's permission in every cluster it works in (a
    discard job: ``deadletters.discard``; routing: ``events.route``), besides the route's.

    A resend job that selected nothing by a ZD number says, once done, where that referral
    went instead (``elsewhere``), as ``integrator resend --zd`` does: worked out when it is
    read, for its reader. The job's start, which an ``Idempotency-Key`` repeats as it was
    first answered, stays the same."""
    missing = HTTPException(status_code=404, detail="no job with that id")
    job = await registry.get(id_in_path(job_id, missing))
    if job is None:
        raise missing
    scope.require(job.clusters, missing=missing)
    needed = JOB_PERMISSIONS.get(job.kind)
    if needed is None:
        raise missing
    Scope(scope.identity, needed).require(job.clusters, missing=missing)
    answered = job.to_json()
    if job.unmatched_zd is not None and job.state == "done":
        by_zd = MessageFilter(zd_number=job.unmatched_zd)
        answered["elsewhere"] = await elsewhere_json(engine, scope, by_zd)
    return answered


async def elsewhere_json(engine: Engine, scope: Scope, flt: MessageFilter) -> dict[str, Any] | None:
    """Where the referral went that a resend by ``flt`` found no message of, as ``scope``'s
    identity may know it (``message_reads.elsewhere``, as the CLI and the console say it): by
    its ZD number, else by the patient's BSN (its keyed hash; ``zd_number`` is then null, and
    nothing names the BSN); None for a filter with neither. ``rejected``, how much rejected
    input has it (null: the reader may not list rejected input, or, by BSN, not search it by
    BSN); ``unrouted``, how many of its events arrived while no destination served its
    provider (0 for who does not read every cluster, and, by BSN, patient data in every
    cluster); ``outside_terms``, how many messages of it, in the caller's clusters, the
    selection's other terms left out; ``see``, the routes that show them: by BSN the searches
    that take it in their body, never in an address."""
    went = await elsewhere(engine.store, scope.identity, flt)
    if went is None:
        return None
    see = []
    if flt.zd_number is not None:
        query = urlencode({"zd_number": flt.zd_number})
        if went.outside_terms:
            see.append(f"/api/v1/messages?{query}")
        if went.rejected:
            see.append(f"/api/v1/rejected?{query}")
        if went.unrouted:
            see.append(f"/api/v1/events?{query}&unrouted=true")
    else:
        if went.outside_terms:
            see.append("/api/v1/messages/search")
        if went.rejected:
            see.append("/api/v1/rejected/search")
        if went.unrouted:
            see.append("/api/v1/events/search")
    return {
        "zd_number": flt.zd_number,
        "rejected": went.rejected,
        "unrouted": went.unrouted,
        "outside_terms": went.outside_terms,
        "see": see,
    }
