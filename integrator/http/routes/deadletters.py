"""``/api/v1/deadletters``: the messages the engine gave up on; discarding one.

Discarding is ``deadletter.discard``, as ``integrator deadletter discard`` and the console do
it (``deadletters.discard`` in the message's cluster; a message outside the caller's clusters
is a 404, like an unknown id).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict

from deadletter import (
    AlreadyResolved,
    DeadLetterError,
    TermsRefused,
    checked_reason,
    discard,
    discard_each,
    discard_entries,
    plan_discard,
)
from integrator.clusters import NotPermitted, cluster_of
from integrator.http.bodies import AuditReason, BatchDiscardBody
from integrator.http.deps import (
    EngineDep,
    JobsDep,
    SourceDep,
    TopLimit,
    bad_search,
)
from integrator.http.idempotency import KEY_ANSWERS, IdempotencyKey, answered_once
from integrator.http.json_body import JsonBodyRoute
from integrator.http.message_ids import MessageNamed
from integrator.http.openapi import DISCARD_PLAN, STARTED_JOB, answer
from integrator.http.periods import since_query, until_query
from integrator.http.scope import Scope, ScopeDep, forbidden
from integrator.idempotency import Answer
from integrator.jobs import Job
from integrator.message_service import (
    NO_MESSAGE,
    MessageNotFound,
    MessageTerms,
    find_dead_letters,
    select_dead_letters_in_sight,
    still_permitted,
    visible_message,
    whole_or_stopped,
)
from integrator.presenters import dead_letter_summary
from integrator.search import BadSearch
from integrator.store.jobs import DISCARD_JOB

router = APIRouter(prefix="/api/v1", tags=["deadletters"], route_class=JsonBodyRoute)

Since = Annotated[str | None, since_query("Died")]
Until = Annotated[str | None, until_query("Died")]


@router.get("/deadletters")
async def deadletters(
    engine: EngineDep,
    scope: ScopeDep,
    destination: str | None = None,
    limit: TopLimit = 100,
    include_resolved: bool = Query(
        False,
        alias="all",
        description="Also the resolved ones: a later resend was delivered, or it was "
        "discarded (state discarded, with discarded_by and discarded_at).",
    ),
    since: Since = None,
    until: Until = None,
) -> list[dict[str, Any]]:
    """Dead letters that still need support, newest first; ``all=true`` adds the resolved ones
    (a later resend delivered) and the discarded ones (``state`` ``discarded``, with
    ``discarded_by`` and ``discarded_at``; its ``dead_since`` as its discard recorded it, null
    where it did not (a discard before an upgrade, or its entry pruned), but selected by
    ``since`` and ``until`` on when it was discarded). ``last_attempt_at``: when each was last
    tried (null: never), the latest the store knows of one whose ``dead_since`` it does not.

    Newest by the message (its ``seq``, the order messages were made), not by when it died; at
    most ``limit``, with no offset: for more, narrower periods of ``since`` and ``until``.

    Each has its ``state`` (``open``, ``resending``, ``resolved``) and the link to the resend
    that resolved it (``resolved_by``), the same shape as ``integrator deadletter list --json``.
    Only those of destinations in the caller's clusters; a ``destination`` that names none of
    them is a 422 naming the parameter, as in ``GET /api/v1/messages``. ``since`` and
    ``until`` select on when each died (``dead_since``), read as every period is; one that
    starts at or after its end is a 422 naming both.
    """
    try:
        letters = await find_dead_letters(
            engine,
            scope,
            destination=destination,
            limit=limit,
            include_resolved=include_resolved,
            since=since,
            until=until,
        )
    except BadSearch as exc:
        terms = MessageTerms(destination=destination, since=since, until=until)
        raise bad_search(exc, terms) from None
    seen = scope.destination_ids(engine.catalog)  # a resend elsewhere is not named
    return [dead_letter_summary(letter, seen=seen) for letter in letters]


@router.post(
    "/deadletters/discard",
    status_code=202,
    responses={
        200: answer(
            "`dry_run`: what the job would do to each dead letter, answered at once; nothing "
            "is discarded",
            DISCARD_PLAN,
        ),
        202: answer(
            "The job that discards them, with `actor` (who it discards as); follow it at "
            "`/api/v1/jobs/{job_id}`",
            STARTED_JOB,
        ),
        404: answer("A `message_ids` entry names no message, or one outside the caller's clusters"),
        **KEY_ANSWERS,
    },
)
async def discard_dead_letters(
    body: BatchDiscardBody,
    engine: EngineDep,
    scope: ScopeDep,
    registry: JobsDep,
    source: SourceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Discard dead letters in bulk, each with its resend chain, as a job; a required reason.

    Selects as ``integrator deadletter discard`` does: ``message_ids`` (each a dead letter of
    the caller's clusters, else 404 or 422 as for one), and the unresolved dead letters that
    ``all``, a ``destination`` or ``since``/``until`` (on when they died) select among the
    caller's clusters, exactly what ``GET /api/v1/deadletters`` lists with the same terms. Of
    a resend chain only the latest is selected; it closes the others with it. ``dry_run``
    answers at once (200) with what the job would do to each; otherwise a job (202), followed
    at ``/api/v1/jobs/{id}``, whose results say per dead letter ``discarded`` (with
    ``resend_chain`` and ``stays_open``), ``skipped`` (resolved since it was selected, with
    why) or ``left out``. Each discard is its own transaction with its audit entries
    (``deadletter.discard``, under the caller's identity), so one stopped engine leaves what it
    did discarded. With an ``Idempotency-Key``, a repeat answers the first request's job (or
    dry run) and starts none.
    """
    return await answered_once(
        engine,
        scope.identity,
        idempotency_key,
        response,
        route="POST /api/v1/deadletters/discard",
        body=body.model_dump(mode="json"),
        work=lambda: _discard_batch(body, engine, scope, registry, source),
    )


async def _discard_batch(
    body: BatchDiscardBody, engine: EngineDep, scope: Scope, registry: JobsDep, source: str | None
) -> Answer:
    seen = scope.destination_ids(engine.catalog)  # the only destinations an entry names
    terms = MessageTerms(destination=body.destination, since=body.since, until=body.until)
    try:
        reason = checked_reason(body.reason)
        selection = await select_dead_letters_in_sight(
            engine, scope, terms, message_ids=body.message_ids, every=body.every
        )
    except BadSearch as exc:
        raise bad_search(exc, terms) from None
    except MessageNotFound:
        raise HTTPException(status_code=404, detail=NO_MESSAGE) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except TermsRefused as exc:
        raise HTTPException(status_code=422, detail=exc.terms_rule(_api_term)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    ids = [m.id for m in selection]
    # Asked as the job goes: a token revoked meanwhile stops it, not its last dead letter.
    allowed = still_permitted(engine, scope, selection)

    async def each(*, dry_run: bool, job: Job | None = None) -> list[dict[str, Any]]:
        def progress(done: int) -> None:
            if job is not None:
                job.done = done

        done, stopped = await discard_each(
            engine.store,
            ids,
            actor=scope.actor,
            reason=reason,
            dry_run=dry_run,
            source=source,
            progress=progress,
            job_id=None if job is None else job.id,
            allowed=None if job is None else allowed,
        )
        entries = discard_entries(selection, done, dry_run=dry_run, seen=seen)
        if not stopped:
            return entries
        return whole_or_stopped("discard", entries, done=len(done), total=len(selection))

    if body.dry_run:
        entries = await each(dry_run=True)
        outcomes = [e["outcome"] for e in entries]
        plan = {
            "dry_run": True,
            "actor": scope.actor,
            "total": len(selection),
            "discard": outcomes.count("would discard"),
            "skip": outcomes.count("would skip"),
            "results": entries,
        }
        return Answer(200, plan)

    async def run(job: Job) -> list[dict[str, Any]]:
        return await each(dry_run=False, job=job)

    # Its results name what the starter may see: only who sees as much may read them.
    job = await registry.start(DISCARD_JOB, len(selection), run, clusters=scope.clusters_held())
    return Answer(202, {**job.to_json(), "actor": scope.actor})


def _api_term(term: str) -> str:
    """A selection term as this body names it (the service says ``every``)."""
    return "all" if term == "every" else term


class DiscardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: AuditReason


@router.post(
    "/deadletters/{message_id}/discard",
    responses={409: answer("Resolved already (discarded, or a later resend delivered)")},
)
async def discard_dead_letter(
    message_id: MessageNamed,
    body: DiscardBody,
    engine: EngineDep,
    scope: ScopeDep,
    source: SourceDep,
    dry_run: bool = Query(
        False, description="Say what would be discarded and what stays open; change nothing."
    ),
) -> dict[str, Any]:
    """Close a dead letter without sending it again (``cancelled``), with a required reason,
    together with its resend chain (the other open dead letters of the same message to the
    same destination); each audited (``deadletter.discard``) under the caller's identity. The
    answer names them (``discarded``, ``resend_chain``) and what stays open with why
    (``stays_open``); ``dry_run=true`` answers the same and changes nothing. Not a dead
    letter, or no reason: 422 with why; one already resolved (discarded, or a later resend
    delivered): 409 saying how and when, nothing changed."""
    try:
        message = await visible_message(engine, scope, message_id)
        if dry_run:
            plan = await plan_discard(engine.store, message.id)
        else:
            plan = await discard(
                engine.store, message.id, actor=scope.actor, reason=body.reason, source=source
            )
    except MessageNotFound:
        raise HTTPException(status_code=404, detail=NO_MESSAGE) from None
    except NotPermitted as refusal:
        raise forbidden(refusal) from None
    except AlreadyResolved as exc:  # a resend that got through elsewhere is not named
        said = exc.seen_by(scope.destination_ids(engine.catalog))
        raise HTTPException(status_code=409, detail=str(said)) from None
    except DeadLetterError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {
        "message_id": message.id,
        "status": "dead" if dry_run else "cancelled",
        "dry_run": dry_run,
        "discarded": plan.discarded,
        "resend_chain": [m.id for m in plan.chain],
        # Only what the caller may see: another destination's dead letter may be in a
        # cluster of someone else's (the audit entry names every one).
        "stays_open": [
            s.to_json()
            for s in plan.stays_open
            if scope.allows(cluster_of(engine.catalog, s.destination_id))
        ],
    }
