"""Dead letters grouped by why they died; resend or discard a group or a selection of it.

Listing is ``deadletter.list_dead_letters`` narrowed as ``GET /api/v1/deadletters`` narrows it
(``messages.read``). Acting takes two steps: the selection is counted first (for a resend, the
dry run of ``resend_in_engine`` says which would go out and which would be skipped, and why)
and only the confirmation, with its required reason, acts. Resending is ``resend_in_engine``
as ``POST /api/v1/resend`` does it (``messages.resend`` in each message's cluster); discarding
is ``deadletter.discard`` as ``integrator deadletter discard`` does it
(``deadletters.discard`` in each message's cluster).

The ticked dead letters are a broad selection, as ``deadletter resend --all`` makes one
(``select_dead_letters(picked=…)``), not named ids: what a resend settled or set on its way
since the page was shown is left out or skipped, by the service's rule. The confirmation acts
once (``integrator.console.once``), and its result is a page of its own
(``/deadletters/done/<id>``, Post/Redirect/Get): a reload, Back and submit, or a second tab
shows what was done, by whom and when, and sends nothing again.

A period on when they died (``since``/``until``, read as every period is, refused beside its
field) narrows the groups, as ``deadletter list --since/--until`` does; it travels with the
ticked ones into the confirmation and the resend, which select only those that died in it
(``select_dead_letters(died_since=…)``), so the count is of what the page showed.

A destination narrows the groups too (``?destination=``, as ``deadletter list --destination``
and the API's ``destination`` do; the dashboard's tile links to it). Both filters stay with the
page's forms: a refusal of the selection itself ("nothing was selected") is the list again,
with the filters it had and the error above its groups, not a page of its own.

The confirmation and the result say, per message, what a person recognises it by and why it
died: its ZD number, destination, type, when it died and the reason as the list shows it
(``presenters.dead_letter_facts``), beside the short id that links to the message. The result
keeps them as they were when it acted (a discard makes the message ``cancelled``, and its
time of death would be lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from deadletter import (
    DeadLetterError,
    ResendRequest,
    ResendResult,
    Selection,
    StaysOpen,
    discard,
    plan_discard,
    select_dead_letters,
)
from integrator.access.permissions import Permission
from integrator.clusters import cluster_of
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.once import (
    FIELD,
    confirmation,
    failed,
    issue,
    kept_rows,
    once,
    shown_rows,
)
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.selections import selected_in_scope
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of
from integrator.message_reads import MessageTerms, terms_filter
from integrator.message_service import find_dead_letters
from integrator.presenters import dead_letter_facts, dead_letter_summary
from integrator.reasons import MAX_REASON
from integrator.resending import resend_in_engine
from integrator.search import BadSearch
from integrator.store import MessageFilter, MessageRecord

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/deadletters", "nav.deadletters", P.MESSAGES_READ)]
Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Resender = Annotated[Visitor, Depends(needs(P.MESSAGES_RESEND))]
Discarder = Annotated[Visitor, Depends(needs(P.DEADLETTERS_DISCARD))]
SHOWN: Final = 500
ACTIONS: Final = {"resend": P.MESSAGES_RESEND, "discard": P.DEADLETTERS_DISCARD}

Ids = Annotated[list[str], Form(max_length=SHOWN)]
"""Nothing is ticked until a person ticks it, so none may come: given as ``= []``, the refusal
is the page's own sentence (``_in_scope``), not FastAPI's "field required"."""
Action = Annotated[str, Form(pattern="^(resend|discard)$")]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
Moment = Annotated[str, Query(max_length=200)]
FormMoment = Annotated[str, Form(max_length=200)]
Term = Annotated[str, Query(max_length=200)]
FormTerm = Annotated[str, Form(max_length=200)]


NOTHING_SELECTED: Final = Said(
    "nothing was selected: tick at least one dead letter (or select all in its group); "
    "nothing was done",
    "console.select_dead_letter",
)


def _period(since: str, until: str) -> dict[str, str]:
    """The period's terms as given (blank ones left out), for the page and its forms."""
    return {k: v.strip() for k, v in (("since", since), ("until", until)) if v.strip()}


def _filters(destination: str, since: str, until: str) -> dict[str, str]:
    """The list's terms as given (blank ones left out): the destination and the period."""
    shown = {"destination": destination.strip()} if destination.strip() else {}
    return {**shown, **_period(since, until)}


@router.get("/deadletters")
async def dead_letters(
    request: Request,
    visitor: Reader,
    destination: Term = "",
    since: Moment = "",
    until: Moment = "",
) -> Response:
    return await _listing(request, visitor, _filters(destination, since, until))


async def _listing(
    request: Request, visitor: Visitor, filters: dict[str, str], refused: Said | None = None
) -> Response:
    """The page with ``filters``; ``refused``: why a form posted from it did nothing, shown
    above its groups (422), the filters kept, so the person acts again where they were."""
    engine = engine_of(request)
    scope = visitor.scope(P.MESSAGES_READ)
    destinations = sorted(scope.visible_catalog(engine.catalog).destinations)
    try:
        letters = await find_dead_letters(
            engine,
            scope,
            destination=filters.get("destination"),
            limit=SHOWN,
            include_resolved=False,
            since=filters.get("since"),
            until=filters.get("until"),
        )
    except BadSearch as exc:
        # Beside its field, naming the rule, never the value sent (as the other pages do).
        problem = (exc.field, said(exc, withheld=filters.values(), field=False))
        return page(
            request,
            visitor,
            "deadletters.html",
            status=422,
            groups=[],
            shown=SHOWN,
            filters={},
            period={},
            destinations=destinations,
            problem=problem,
        )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for letter in letters:
        row = dead_letter_summary(letter, engine.settings.zone)
        groups.setdefault((row["destination"], row["reason"] or ""), []).append(row)
    listed = [
        {
            "key": f"g{number}",
            "destination": destination,
            "cluster": cluster_of(engine.catalog, destination),
            "reason": reason,
            "letters": rows,
        }
        for number, ((destination, reason), rows) in enumerate(sorted(groups.items()), start=1)
    ]
    return page(
        request,
        visitor,
        "deadletters.html",
        status=200 if refused is None else 422,
        groups=listed,
        shown=SHOWN,
        filters=filters,
        period=_period(filters.get("since", ""), filters.get("until", "")),
        destinations=destinations,
        problem=None if refused is None else ("ids", refused),
    )


async def _in_scope(
    engine: Engine, visitor: Visitor, permission: Permission, ids: Sequence[str]
) -> Selection:
    """The named messages, each in a cluster where ``permission`` is held (else 404/403)."""
    return await selected_in_scope(engine, visitor, permission, ids, none=NOTHING_SELECTED)


def _died_in(engine: Engine, period: dict[str, str]) -> MessageFilter:
    """The period the page showed, read as it was read there (a refusal: the field's rule)."""
    try:
        return terms_filter(engine.settings, MessageTerms(**period))
    except BadSearch as exc:
        raise BadInput(said(exc, withheld=period.values())) from None


async def _to_resend(
    engine: Engine, visitor: Visitor, ids: Sequence[str], period: dict[str, str]
) -> Selection:
    """The ticked dead letters as the service selects them from a listing: not named, so a
    page posted again (stale, reloaded, in a second tab) leaves out or skips what a resend
    settled or set on its way since, as ``deadletter resend --all`` would; within the period
    the page showed, if any."""
    died = _died_in(engine, period)
    checked = await _in_scope(engine, visitor, P.MESSAGES_RESEND, ids)
    try:
        return await select_dead_letters(
            engine.store,
            picked=[m.id for m in checked],
            died_since=died.since,
            died_until=died.until,
        )
    except DeadLetterError as exc:
        raise BadInput(said(exc)) from None


def _left_out(selection: Selection) -> list[dict[str, Any]]:
    """What the selection left out, as rows of the same table as the resend's outcomes.

    ``left out``, in the dry run and the resend alike, as the CLI and docs/support.md say it:
    the selection took another message for it (not a skip, which the resend decides)."""
    return [
        {
            **dead_letter_facts(x.message),
            "original_id": x.message.id,
            "outcome": "left out",
            "message_id": None,
            "note": x.note,
        }
        for x in selection.left_out
    ]


def _resent(results: Sequence[ResendResult]) -> list[dict[str, Any]]:
    """A resend's (or its dry run's) rows, each with what the list showed of its dead letter."""
    return [{**dead_letter_facts(r.original), **r.to_json()} for r in results]


@router.post("/deadletters/confirm")
async def confirm(
    request: Request,
    visitor: Reader,
    action: Action,
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    destination: FormTerm = "",
    since: FormMoment = "",
    until: FormMoment = "",
) -> Response:
    """The count, and what would happen to each (a resend's dry run; a discard's resend chains
    and what stays open); nothing is done yet. The form carries a one-time token, so the
    confirmation acts once however often it is posted. Nothing ticked: the list again, with
    its filters, saying so."""
    engine = engine_of(request)
    if not visitor.may_somewhere(ACTIONS[action]):
        raise Forbidden()
    filters = _filters(destination, since, until)
    if not ids:
        return await _listing(request, visitor, filters, refused=NOTHING_SELECTED)
    planned: list[dict[str, Any]] = []
    period = _period(since, until)
    if action == "resend":
        messages = await _to_resend(engine, visitor, ids, period)
        request_ = ResendRequest(reason="(counting only)", actor=visitor.actor)
        try:
            results = await resend_in_engine(engine, messages, request_, dry_run=True)
        except DeadLetterError as exc:
            raise BadInput(said(exc)) from None
        planned = _resent(results) + _left_out(messages)
        listed = [*messages, *(x.message for x in messages.left_out)]
        going = sum(1 for p in planned if p["outcome"] == "would resend")
    else:
        listed = list(await _in_scope(engine, visitor, P.DEADLETTERS_DISCARD, ids))
        planned = await _discards(engine, visitor, listed)
        going = sum(1 for p in planned if p["outcome"] == "would discard")
    return page(
        request,
        visitor,
        "deadletters_confirm.html",
        action=action,
        messages=listed,
        planned=planned,
        going=going,
        period=period,
        filters=filters,
        once=await issue(engine, visitor, f"deadletters.{action}"),
    )


def _done(confirmation_id: str, repeated: bool) -> Response:
    """Post/Redirect/Get: the result is a page of its own, which a reload only shows again."""
    again = "?again=1" if repeated else ""
    return RedirectResponse(f"/deadletters/done/{confirmation_id}{again}", status_code=303)


@router.post("/deadletters/resend")
async def resend(
    request: Request,
    visitor: Resender,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    once_token: Once = "",
    since: FormMoment = "",
    until: FormMoment = "",
) -> Response:
    engine = engine_of(request)

    async def work() -> dict[str, Any]:
        messages = await _to_resend(engine, visitor, ids, _period(since, until))
        try:
            results = await resend_in_engine(
                engine,
                messages,
                ResendRequest(reason=reason, actor=visitor.actor, source=source_of(request)),
            )
        except DeadLetterError as exc:
            raise BadInput(said(exc)) from None
        rows = _resent(results) + _left_out(messages)
        return {"rows": kept_rows(rows)}

    done = await once(engine, visitor, "deadletters.resend", once_token, work)
    return _done(done.id, done.repeated)


@router.post("/deadletters/discard")
async def discard_letters(
    request: Request,
    visitor: Discarder,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    once_token: Once = "",
) -> Response:
    engine = engine_of(request)

    async def work() -> dict[str, Any]:
        messages = await _in_scope(engine, visitor, P.DEADLETTERS_DISCARD, ids)
        if not reason.strip():
            raise BadInput(
                Said("a reason is required (it goes into the audit log)", "reason.required")
            )
        rows = await _discards(engine, visitor, messages, reason=reason, source=source_of(request))
        return {"rows": kept_rows(rows)}

    done = await once(engine, visitor, "deadletters.discard", once_token, work)
    return _done(done.id, done.repeated)


async def _discards(
    engine: Engine,
    visitor: Visitor,
    messages: Sequence[MessageRecord],
    *,
    reason: str | None = None,
    source: str | None = None,
) -> list[dict[str, Any]]:
    """What discarding ``messages`` does (``reason`` None: would do), row by row: each ticked
    one, the resend chain closed with it, and what stays open with why, as the service says.

    A ticked message already in an earlier one's chain is its row there, not a second discard
    (which the service would refuse as discarded already); one said to stay open by one but
    discarded by another ticked one is shown as discarded only. What stays open is shown only
    where the person may read it (another destination may be in someone else's cluster)."""
    act = reason is not None
    reader = visitor.scope(P.MESSAGES_READ)
    # What stays open is read only once every ticked one is done: by then it may be closed.
    rows: list[dict[str, Any] | StaysOpen] = []
    closed: set[str] = set()

    def row(message: MessageRecord, outcome: str, note: Any = None) -> dict[str, Any]:
        return {
            **dead_letter_facts(message),
            "original_id": message.id,
            "outcome": outcome,
            "message_id": None,
            "note": note,
        }

    for message in messages:
        if message.id in closed:
            continue
        try:
            if act:
                plan = await discard(
                    engine.store,
                    message.id,
                    actor=visitor.actor,
                    reason=reason or "",
                    source=source,
                )
            else:
                plan = await plan_discard(engine.store, message.id)
        except DeadLetterError as exc:  # resolved or discarded since, or not dead
            rows.append(row(message, "skipped" if act else "would skip", said(exc)))
            continue
        done = "discarded" if act else "would discard"
        rows.append(row(message, done))
        closed.update(plan.discarded)
        rows.extend(row(m, done, plan.chain_note) for m in plan.chain)
        rows.extend(
            stays
            for stays in plan.stays_open
            if reader.allows(cluster_of(engine.catalog, stays.destination_id))
        )
    shown: list[dict[str, Any]] = []
    for entry in rows:
        if not isinstance(entry, StaysOpen):
            shown.append(entry)
        elif entry.message_id not in closed:
            member = await engine.store.get_message(entry.message_id)
            if member is not None:
                shown.append(row(member, "stays open", entry.why))
    return shown


@router.get("/deadletters/done/{confirmation_id}")
async def done_page(
    request: Request, visitor: Reader, confirmation_id: str, again: bool = False
) -> Response:
    """What a confirmed resend or discard did; a reload shows it again and does nothing."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or not row.action.startswith("deadletters."):
        raise NotFound()
    return page(
        request,
        visitor,
        "deadletters_done.html",
        action=row.action.removeprefix("deadletters."),
        done=row,
        again=again,
        failed=failed(row),
        rows=shown_rows(row),
    )
