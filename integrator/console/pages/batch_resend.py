"""Resending the messages a search finds, from the messages page: counted first, then sent.

The CLI's ``integrator resend --destination … --status …`` and ``POST /api/v1/resend`` with a
filter, for support staff in the console: the selection is ``deadletter.select_for_resend`` of
the search's identifier terms (originals only; a ZD number names what it finds), within the
clusters where the person may resend (``messages.resend``). The first step shows what the dry
run of ``resend_in_engine`` says would happen to each message; only the confirmation, with its
required reason, resends, with the same ids and the same named ones, so the second step does
what the first promised. So that the page never waits long, it takes at most ``RESENT_HERE``
messages at once; a larger selection is a job of the API or the CLI, which the refusal says.
A BSN is not among the terms (the search page says so under a search by BSN):
resending by patient is the API's alone (a ``filter`` with ``bsn``): ``integrator resend``
has no ``--bsn``.

The confirmation acts once (``integrator.console.once``): its result is a page of its own
(``/messages/resend/done/<id>``, Post/Redirect/Get), and the same confirmation posted again (a
reload, Back and submit, a second tab) shows that result, with who and when, and sends nothing.
A new confirmation is a new request: what a ZD number names is resent again, by the rule.
While it resends, it asks between chunks whether the person still may, as a job does, and its
result is shown again only within the sight it was written for (``console.batch_results``).

A refusal keeps the person where they were: a search that finds more than ``RESENT_HERE`` is
the search page again, its results shown, saying how many it finds; a confirmation posted with
a blank reason (the browser's ``required`` takes spaces) is the confirmation again, its
selection kept and the refusal beside the reason, with the same one-time token (released by
the refusal, so still unused: a second live token for one selection could send it twice).
Its *Cancel* goes back to the search (its identifier terms ride along in the form: never a
BSN, by which nothing is resent here); so does its result's *Back*, written again from what
the search read (``_way_back``), never what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from deadletter import (
    DeadLetterError,
    RefusedReason,
    ResendRequest,
    Selection,
    TooManyMatches,
    checked_reason,
)
from integrator import kept_searches
from integrator.access.permissions import Permission
from integrator.console import kept
from integrator.console.batch_results import in_sight, kept_batch, stopped_said, summed
from integrator.console.errors import BadInput, NotFound
from integrator.console.once import (
    FIELD,
    confirmation,
    failed,
    issue,
    once_then_result,
    shown_rows,
)
from integrator.console.pages.messages import RESENT_HERE, FormTerms, search_page
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.selections import selected_in_scope
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of
from integrator.message_service import (
    MessageTerms,
    checked_filter,
    select_to_resend,
    still_permitted,
    visible_resends_of_each,
    whole_or_stopped,
)
from integrator.reasons import MAX_REASON
from integrator.resending import resend_in_engine
from integrator.saved_searches import query_of
from integrator.search import BadSearch, misplaced_bsn

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []
Resender = Annotated[Visitor, Depends(needs(P.MESSAGES_RESEND))]
Ids = Annotated[list[str], Form(max_length=RESENT_HERE)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
Handle = Annotated[str, Form(alias=kept.FIELD, max_length=kept_searches.MAX_HANDLE)]
"""The kept search the messages page showed (``console.kept``), for the way back to it."""
ACTION: Final = "messages.resend"


@router.post("/messages/resend/confirm")
async def confirm(
    request: Request, visitor: Resender, terms: FormTerms, handle: Handle = ""
) -> Response:
    """What resending the search's messages would do to each; nothing is sent yet. More than
    ``RESENT_HERE``: the search page again, with how many it finds and why it stops there.
    ``handle``: the kept search the page showed, which *Cancel* returns to."""
    engine = engine_of(request)
    if not terms:
        raise BadInput(
            Said(
                "search first: say which messages (a ZD number, destination, status…)",
                "console.search_first",
            )
        )
    try:
        # A destination that names none the person may resend in: refused, not "nothing".
        flt = await checked_filter(engine, visitor.scope(P.MESSAGES_RESEND), MessageTerms(**terms))
        selection = await select_to_resend(
            engine,
            visitor.scope(P.MESSAGES_RESEND),
            flt,
            limit=RESENT_HERE,
            source=source_of(request),
        )
    except BadSearch as exc:  # names the term and the rule, never the value
        raise BadInput(said(exc, withheld=terms.values())) from None
    except TooManyMatches as exc:
        return await search_page(
            request, visitor, terms, resend_refused=_too_many(exc.found), handle=handle
        )
    return await _confirmation(
        request, visitor, terms, selection, await issue(engine, visitor, ACTION), handle=handle
    )


def _too_many(found: int | None) -> Said:
    """Why the console does not take this search's messages, with how many it finds."""
    return Said(
        f"the search finds {found if found is not None else 'more'} messages, more than "
        f"{RESENT_HERE}, the most the console resends at once: narrow it (a period, a status), "
        "or use `integrator resend` or POST /api/v1/resend, which take up to 100,000",
        "console.resend_too_many",
        values={"limit": RESENT_HERE, "found": found if found is not None else "?"},
    )


async def _confirmation(
    request: Request,
    visitor: Visitor,
    terms: dict[str, str],
    selection: Selection,
    token: str,
    refused: Said | None = None,
    *,
    handle: str = "",
) -> Response:
    """The confirmation of ``selection``: the dry run per message, and the form with ``token``.
    ``refused``: why its post did nothing, beside the reason (422), the selection kept.
    ``handle``: the kept search it came from, which *Cancel* names instead of its terms (as
    typed, they stay out of the address)."""
    engine = engine_of(request)
    seen = visitor.scope(P.MESSAGES_RESEND).destination_ids(engine.catalog)  # names only these
    counting = ResendRequest(reason="(counting only)", actor=visitor.actor)
    try:
        made = await resend_in_engine(engine, selection, counting, dry_run=True)
        planned = [r.to_json(seen) for r in made]
    except DeadLetterError as exc:
        raise BadInput(said(exc)) from None
    # Of each, what one message's preview says: its status, and the resends made of it already
    # (those the person may read, newest first), so a delivered one is not resent unawares.
    # A reader limited to some clusters is never told "never": a resend to a destination
    # outside them is hidden, and so is whether one exists (always "none you may see").
    status = {m.id: m.status for m in selection}
    reads = visitor.scope(P.MESSAGES_READ)
    earlier = await visible_resends_of_each(engine, reads, selection)
    for p in planned:
        p["status"] = status.get(p["original_id"])
        p["earlier"] = [r.message_id for r in reversed(earlier.get(p["original_id"], []))]
    going = [p for p in planned if p["outcome"] == "would resend"]
    # As the search page links its own search: a kept one by its handle, else its terms.
    query = urlencode({kept.FIELD: handle}) if handle else query_of(terms)
    return page(
        request,
        visitor,
        "batch_resend_confirm.html",
        status=200 if refused is None else 422,
        messages=list(selection),
        named=sorted(selection.named),
        planned=planned,
        going=len(going),
        # Counted of those that would go out: a skipped one's note says why already.
        delivered=sum(1 for p in going if p["status"] == "delivered"),
        resent_before=sum(1 for p in going if p["earlier"]),
        earlier_limited=reads.destination_ids(engine.catalog) is not None,
        once=token,
        terms=terms,
        handle=handle,
        back=f"/messages?{query}" if query else "/messages",
        refused=refused,
    )


@router.post("/messages/resend")
async def resend(
    request: Request,
    visitor: Resender,
    ids: Ids,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    terms: FormTerms,
    named: Ids = [],  # noqa: B006 (FastAPI's way of an optional repeated form field)
    once_token: Once = "",
    handle: Handle = "",
) -> Response:
    engine = engine_of(request)

    async def chosen() -> Selection:
        return await selected_in_scope(
            engine,
            visitor,
            P.MESSAGES_RESEND,
            ids,
            none=Said("no message to resend", "console.no_message"),
        )

    back = await _way_back(engine, visitor, terms)

    async def work() -> dict[str, Any]:
        selection = await chosen()
        checked_reason(reason)  # refused before anything is sent: the token is released
        scope = visitor.scope(P.MESSAGES_RESEND)

        async def rows() -> list[dict[str, Any]]:
            try:
                results = await resend_in_engine(
                    engine,
                    selection.naming(named),
                    ResendRequest(reason=reason, actor=visitor.actor, source=source_of(request)),
                    # Asked between chunks, as a job asks: access taken away stops it there.
                    allowed=still_permitted(engine, scope, selection),
                )
            except DeadLetterError as exc:
                raise BadInput(said(exc)) from None
            seen = scope.destination_ids(engine.catalog)
            answered = [r.to_json(seen) for r in results]
            return whole_or_stopped("resend", answered, done=len(results), total=len(selection))

        return await kept_batch(scope, back, rows)

    try:
        return await once_then_result(
            engine, visitor, ACTION, once_token, work, result_at="/messages/resend/done"
        )
    except RefusedReason as exc:
        # The confirmation again, as it was, with its token (unused again) and the refusal.
        selection = (await chosen()).naming(named)
        return await _confirmation(
            request,
            visitor,
            terms,
            selection,
            once_token,
            refused=said(exc, field=False),
            handle=handle,
        )


async def _way_back(engine: Engine, visitor: Visitor, terms: dict[str, str]) -> dict[str, str]:
    """The search a confirmation came from, for its result's *Back*: its terms (as the form
    carries them, the search's own, kept or not) read by the search's rules and written again
    from what was read: identifiers and the period's moments, never what was typed, and never
    a term that holds a BSN or is refused (then the whole list). A kept search lasts minutes
    and a result hours, so its handle is not carried; a period back from now (``12h``) is
    fixed as it was read when the resend was made."""
    if misplaced_bsn(terms) is not None:
        return {}
    try:
        read = await checked_filter(engine, visitor.scope(P.MESSAGES_READ), MessageTerms(**terms))
    except BadSearch:
        return {}
    named = {
        "zd_number": read.zd_number,
        "destination": read.destination_id,
        "status": read.status,
        "version": read.version,
        "event_type": read.event_type,
    }
    shown = {name: value for name, value in named.items() if value}
    return {**shown, **kept.period_moments(engine.settings.zone, read.since, read.until)}


@router.get("/messages/resend/done/{confirmation_id}")
async def done_page(
    request: Request, visitor: Resender, confirmation_id: str, again: bool = False
) -> Response:
    """What a confirmed resend did; a reload shows it again and sends nothing."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or row.action != ACTION:
        raise NotFound()
    # Its rows and its search only within the sight they were written for, as it is now.
    seen = in_sight(visitor, row, P.MESSAGES_RESEND)
    back = row.result.get("back") if isinstance(row.result, dict) and seen else None
    # What it did, counted above its rows; those not done first; the new ones' status now.
    summary = await summed(engine, visitor, shown_rows(row) if seen else [])
    return page(
        request,
        visitor,
        "batch_resend_done.html",
        done=row,
        again=again,
        failed=failed(row),
        rows=summary.rows,
        summary=summary,
        withheld=not seen,
        stopped=stopped_said(row),
        # The search it came from, as ``_way_back`` wrote it (a result kept before: all).
        back=kept.listing_query(back) if isinstance(back, dict) else "",
    )
