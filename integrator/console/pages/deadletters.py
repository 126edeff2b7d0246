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
shows what was done, by whom and when, and sends nothing again. Its *Back* is the list as it
was filtered, written again from what the list read (``_way_back``), never what was typed.
A resend or discard asks as it goes whether the person still may, as a job does, and its result
is shown again only within the sight it was written for (``console.batch_results``).

A period on when they died (``since``/``until``, read as every period is, refused beside its
field) narrows the groups, as ``deadletter list --since/--until`` does; it travels with the
ticked ones into the confirmation and the resend, which select only those that died in it
(``select_dead_letters(died_since=…)``), so the count is of what the page showed. A period
back from now (``2m``, ``12h``) is read once, when the confirmation is drawn: the
confirmation says the moments it became and its form carries them (with their offset), so
the resend, however long after, selects what the confirmation counted.

The page shows at most ``SHOWN``; when more match it says how many of how many it shows
(``count_dead_letters``, the count the dashboard's tile reads), and each group's count is of
the shown ones, so a cut-off group is not taken for all and a missing one is looked for.

A dead letter that was resent says, beside its state, as what it was last resent and how that
went (``dead_letter_summary``'s ``latest_resend``, as ``integrator deadletter list`` says it:
``open; last resent as 4343f9c8 (dead)``): a resend that died too is a dead letter of its own,
listed and counted, and the older row alone read as one still to act on.

A destination narrows the groups too (``?destination=``, as ``deadletter list --destination``
and the API's ``destination`` do; the dashboard's tile links to it). Both filters stay with the
page's forms: a refusal of the selection itself ("nothing was selected") is the list again,
with the filters it had and the error above its groups, not a page of its own.

The filter form posts (``/deadletters/search``), and what was typed into it never reaches an
address (a period field takes a date, and a birth date typed there would stay in the
browser's history and a proxy's log): the filters are kept (``console.kept``) and the list
shown by GET under ``?search=<handle>``, which its confirmation's *Cancel* names again. The
GET still reads filters in its address, for the links the console builds (the dashboard's).

The confirmation and the result say, per message, what a person recognises it by and why it
died: its ZD number, destination, type, when it died and the reason as the list shows it
(``presenters.dead_letter_facts``), beside the short id that links to the message. The result
keeps them as they were when it acted (a discard makes the message ``cancelled``, and its
time of death would be lost).

A message's own page offers *Discard…*, which posts here with ``from_message``: its id, so
the confirmation's *Cancel* and its result's *Back* lead back to that message, not to the
list the person never saw (``_came_from``). Only a message id among the ticked ones is taken,
written again as the store keeps ids, and only ever put after ``/messages/``: never a free
address, so no form can make the console send someone elsewhere.

A confirmation posted with a reason of blanks (the browser's ``required`` takes them) is the
confirmation again, the refusal beside the reason, the selection and period kept, with the
same one-time token: the refusal released it, unused, and a second live token for one
selection could act twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from deadletter import (
    AlreadyResolved,
    DeadLetterError,
    RefusedReason,
    ResendRequest,
    ResendResult,
    Selection,
    StaysOpen,
    checked_reason,
    died_at,
    discard_each,
    select_dead_letters,
)
from integrator import kept_searches
from integrator.access.permissions import Permission
from integrator.clusters import cluster_of
from integrator.console import kept
from integrator.console.batch_results import in_sight, kept_batch, stopped_said, summed
from integrator.console.errors import BadInput, Forbidden, NotFound
from integrator.console.links import opens_destination
from integrator.console.once import (
    FIELD,
    confirmation,
    failed,
    issue,
    once_then_result,
    shown_rows,
)
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.selections import selected_in_scope
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of
from integrator.ids import stored_id
from integrator.message_reads import MessageTerms, terms_filter
from integrator.message_service import (
    count_dead_letters,
    dead_letter_filter,
    find_dead_letters,
    still_permitted,
    whole_or_stopped,
)
from integrator.presenters import dead_letter_facts, dead_letter_summary, iso_time
from integrator.reasons import MAX_REASON
from integrator.resending import resend_in_engine
from integrator.search import BadSearch, misplaced_bsn, without_bsn
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
FormHandle = Annotated[str, Form(max_length=kept_searches.MAX_HANDLE)]
"""A kept search's handle, as the list's forms carry it for the confirmation's *Cancel*."""
FromMessage = Annotated[str, Form(max_length=64)]
"""The id of the message whose page the confirmation was asked from (``_came_from``)."""
FROM_MESSAGE: Final = "from_message"
"""Where a result keeps the message it leads back to (``_came_from`` read it)."""
KIND: Final = "deadletters"
FILTERS: Final = ("destination", "since", "until")


NOTHING_SELECTED: Final = Said(
    "nothing was selected: tick at least one dead letter (or select all in its group); "
    "nothing was done",
    "console.select_dead_letter",
)


def _came_from(given: str, ids: Sequence[str]) -> str:
    """The message a confirmation was asked from, for its *Cancel* and its result's *Back*: a
    message id (``ids.stored_id``: as the store keeps it) that is one of the ticked ``ids``;
    anything else, an address above all, is no way back ("", the dead letters' list). What is
    returned is always a UUID, so ``/messages/<it>`` can lead nowhere but to a message page."""
    found = stored_id(given) if given else None
    if found is None or found not in {stored_id(i) for i in ids}:
        return ""
    return found


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
    search: kept.Handle = "",
) -> Response:
    """The groups: of a kept search's filters (the form's), or of the filters in the address
    (a link the console builds, an address typed by hand)."""
    if search:
        found = await kept.kept_search(request, visitor, KIND, search, again="/deadletters")
        filters = {name: found.terms[name] for name in FILTERS if found.terms.get(name)}
        return await _listing(request, visitor, filters, handle=found.handle)
    return await _listing(request, visitor, _filters(destination, since, until))


@router.post("/deadletters/search")
async def dead_letters_search(
    request: Request,
    visitor: Reader,
    destination: FormTerm = "",
    since: FormMoment = "",
    until: FormMoment = "",
) -> Response:
    """The filter form, posted: once the listing's rules take each term
    (``dead_letter_filter``, which the GET lists with) and none holds a BSN, the filters are
    kept and shown by GET under their handle, never put in the address: what was typed into a
    period field (a birth date) would stay in the browser's history and a proxy's log. A term
    refused is the form again, the refusal beside its field (``_listing`` says it, as for an
    address typed by hand), as on every search page."""
    filters = _filters(destination, since, until)
    if not await _refuses(request, visitor, filters):
        return await kept.keep_and_show(request, visitor, KIND, "/deadletters", filters, None)
    return await _listing(request, visitor, filters)


async def _refuses(request: Request, visitor: Visitor, filters: dict[str, str]) -> bool:
    """Whether the listing refuses a term of ``filters`` (a BSN in one first), by the rules
    its GET lists with (``dead_letter_filter``, which ``find_dead_letters`` calls)."""
    if misplaced_bsn(filters) is not None:
        return True
    try:
        await dead_letter_filter(
            engine_of(request),
            visitor.scope(P.MESSAGES_READ),
            destination=filters.get("destination"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
    except BadSearch:
        return True
    return False


async def _listing(
    request: Request,
    visitor: Visitor,
    filters: dict[str, str],
    refused: Said | None = None,
    *,
    handle: str = "",
) -> Response:
    """The page with ``filters``; ``refused``: why a form posted from it did nothing, shown
    above its groups (422), the filters kept, so the person acts again where they were.
    ``handle``: the kept search whose filters these are, which the confirmation's *Cancel*
    returns to. A term that holds a BSN (an address typed by hand) is refused as that, before
    anything is searched."""
    engine = engine_of(request)
    scope = visitor.scope(P.MESSAGES_READ)
    destinations = scope.searchable_destinations(engine.catalog)  # removed ones too
    try:
        if (pasted := misplaced_bsn(filters)) is not None:
            raise pasted
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
            listed=0,
            total=0,
            # Shown back to be mended (a term holding a BSN emptied), as the other pages do.
            filters=without_bsn(filters),
            period=without_bsn(_period(filters.get("since", ""), filters.get("until", ""))),
            destinations=destinations,
            problem=problem,
            handle=handle,
        )
    # Cut off at SHOWN: how many match, to say so (the page never hides that it is partial).
    total = len(letters)
    if total >= SHOWN:
        counted = await count_dead_letters(
            engine,
            scope,
            destination=filters.get("destination"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
        total = max(total, counted)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen = scope.destination_ids(engine.catalog)  # a resend elsewhere is not named
    for letter in letters:
        row = dead_letter_summary(letter, engine.settings.zone, seen=seen)
        groups.setdefault((row["destination"], row["reason"] or ""), []).append(row)
    listed = [
        {
            "key": f"g{number}",
            "destination": destination,
            "cluster": cluster_of(engine.catalog, destination),
            # Its header links the destination's page for who may open it.
            "linked": opens_destination(engine.catalog, visitor, destination),
            "reason": reason,
            "letters": rows,
        }
        for number, ((destination, reason), rows) in enumerate(sorted(groups.items()), start=1)
    ]
    # The listing took the destination (``dead_letter_filter``): one the person may see, so
    # the form offers it even when only its stored messages still know it. A refused one is
    # never an option (the form draws only these), whatever the address held.
    if accepted := filters.get("destination"):
        destinations = sorted({*destinations, accepted})
    return page(
        request,
        visitor,
        "deadletters.html",
        status=200 if refused is None else 422,
        groups=listed,
        shown=SHOWN,
        listed=len(letters),
        total=total,
        filters=filters,
        period=_period(filters.get("since", ""), filters.get("until", "")),
        destinations=destinations,
        problem=None if refused is None else ("ids", refused),
        handle=handle,
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


def _fixed(engine: Engine, period: dict[str, str]) -> dict[str, str]:
    """The period read once: its bounds as moments in the engine's zone with their offset, as
    the confirmation's form carries them (``kept.period_moments``)."""
    return _moments(engine, _died_in(engine, period))


def _moments(engine: Engine, died: MessageFilter) -> dict[str, str]:
    """A read period's bounds written as ``_fixed`` writes them (blank ones left out)."""
    return kept.period_moments(engine.settings.zone, died.since, died.until)


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


async def _facts(engine: Engine, message: MessageRecord) -> dict[str, Any]:
    """What the list showed of a dead letter (``dead_letter_facts``), when it died too for one a
    colleague discarded meanwhile (``died_at``: its discard recorded it), as for the others."""
    facts = dead_letter_facts(message)
    if facts["dead_since"] is None and (died := await died_at(engine.store, message)):
        facts["dead_since"] = iso_time(died)
    return facts


async def _rows(
    engine: Engine, visitor: Visitor, results: Sequence[ResendResult], selection: Selection
) -> list[dict[str, Any]]:
    """A resend's (or its dry run's) rows, each with what the list showed of its dead letter,
    then what the selection left out, as rows of the same table.

    ``left out``, in the dry run and the resend alike, as the CLI and docs/support.md say it:
    the selection took another message for it (not a skip, which the resend decides). A note
    names a resend elsewhere only where the person may resend (``note_in_sight``)."""
    seen = visitor.scope(P.MESSAGES_RESEND).destination_ids(engine.catalog)
    resent = [{**await _facts(engine, r.original), **r.to_json(seen)} for r in results]
    left_out = [
        {
            **await _facts(engine, x.message),
            "original_id": x.message.id,
            "outcome": "left out",
            "message_id": None,
            "note": x.to_json(seen)["note"],
        }
        for x in selection.left_out
    ]
    return resent + left_out


@router.post("/deadletters/confirm")
async def confirm(
    request: Request,
    visitor: Reader,
    action: Action,
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    destination: FormTerm = "",
    since: FormMoment = "",
    until: FormMoment = "",
    search: FormHandle = "",
    from_message: FromMessage = "",
) -> Response:
    """The count, and what would happen to each (a resend's dry run; a discard's resend chains
    and what stays open); nothing is done yet. The form carries a one-time token, so the
    confirmation acts once however often it is posted. Nothing ticked: the list again, with
    its filters, saying so. ``search``: the handle of the kept search the list showed;
    ``from_message``: the message whose page asked for it (``_came_from``)."""
    engine = engine_of(request)
    if not visitor.may_somewhere(ACTIONS[action]):
        raise Forbidden()
    filters = _filters(destination, since, until)
    if not ids:
        return await _listing(request, visitor, filters, refused=NOTHING_SELECTED, handle=search)
    # Read once, here: the resend selects by these moments, not by "2m" read again later.
    period = _fixed(engine, _period(since, until))
    token = await issue(engine, visitor, f"deadletters.{action}")
    came_from = _came_from(from_message, ids)
    return await _confirmation(
        request, visitor, action, ids, filters, period, token, handle=search, came_from=came_from
    )


async def _confirmation(
    request: Request,
    visitor: Visitor,
    action: str,
    ids: Sequence[str],
    filters: dict[str, str],
    period: dict[str, str],
    token: str,
    refused: Said | None = None,
    *,
    handle: str = "",
    came_from: str = "",
) -> Response:
    """The confirmation of the ticked ``ids`` within ``period`` (moments, as ``_fixed`` writes
    them), its form with ``token``; ``refused``: why its post did nothing, beside the reason
    (422). ``filters``: the list it came from, for its *Cancel*, which names ``handle``
    instead when the list was a kept search (its filters as typed stay out of the address);
    ``came_from``: the message whose page it was asked from (``_came_from``), which *Cancel*
    leads back to instead, and its form carries on to the result."""
    engine = engine_of(request)
    planned: list[dict[str, Any]] = []
    if action == "resend":
        messages = await _to_resend(engine, visitor, ids, period)
        request_ = ResendRequest(reason="(counting only)", actor=visitor.actor)
        try:
            results = await resend_in_engine(engine, messages, request_, dry_run=True)
        except DeadLetterError as exc:
            raise BadInput(said(exc)) from None
        planned = await _rows(engine, visitor, results, messages)
        listed = [*messages, *(x.message for x in messages.left_out)]
        going = sum(1 for p in planned if p["outcome"] == "would resend")
    else:
        listed = list(await _in_scope(engine, visitor, P.DEADLETTERS_DISCARD, ids))
        planned = await _discards(engine, visitor, listed)
        going = sum(1 for p in planned if p["outcome"] == "would discard")
    died = _died_in(engine, period)
    return page(
        request,
        visitor,
        "deadletters_confirm.html",
        status=200 if refused is None else 422,
        action=action,
        messages=listed,
        planned=planned,
        going=going,
        period=period,
        died=(died.since, died.until),
        filters=filters,
        handle=handle,
        came_from=came_from,
        once=token,
        refused=refused,
    )


def _back(destination: str, since: str, until: str) -> dict[str, str]:
    """The list a confirmation came from (its form carries it as ``list_*``), for *Cancel*."""
    return _filters(destination, since, until)


async def _way_back(
    request: Request, visitor: Visitor, filters: dict[str, str], handle: str
) -> dict[str, str]:
    """The list a confirmation came from, for its result's *Back*: its terms (a kept search's,
    when ``handle`` names one) read by the listing's rules (``dead_letter_filter``) and written
    again from what was read: the destination's id and the period's moments, never what was
    typed, and never a term that holds a BSN or is refused (then the whole list). A kept
    search lasts minutes and a result hours, so the handle itself is not carried; and a
    confirmation may stay open longer than its search is kept (a reason to agree on first):
    then ``filters``, the same search's terms as the form carried them, are read instead."""
    engine = engine_of(request)
    if handle:
        try:
            found = await kept_searches.kept(
                engine.store, visitor.signed_in, KIND, handle, now=engine.clock.now()
            )
        except kept_searches.UnknownSearch:
            pass  # expired meanwhile: the form's own copy of its terms
        else:
            filters = {name: found.terms[name] for name in FILTERS if found.terms.get(name)}
    if misplaced_bsn(filters) is not None:
        return {}
    try:
        read = await dead_letter_filter(
            engine,
            visitor.scope(P.MESSAGES_READ),
            destination=filters.get("destination"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
    except BadSearch:
        return {}
    shown = {"destination": read.destination_id} if read.destination_id else {}
    return {**shown, **_moments(engine, read)}


DONE_AT: Final = "/deadletters/done"
"""Where a confirmed resend or discard shows what it did (Post/Redirect/Get): a page of its
own, which a reload only shows again."""


@router.post("/deadletters/resend")
async def resend(
    request: Request,
    visitor: Resender,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    once_token: Once = "",
    since: FormMoment = "",
    until: FormMoment = "",
    list_destination: FormTerm = "",
    list_since: FormMoment = "",
    list_until: FormMoment = "",
    list_search: FormHandle = "",
    from_message: FromMessage = "",
) -> Response:
    engine = engine_of(request)
    period = _period(since, until)  # the moments the confirmation read its period as
    came_from = _came_from(from_message, ids)
    back = await _way_back(
        request, visitor, _back(list_destination, list_since, list_until), list_search
    )

    async def work() -> dict[str, Any]:
        checked_reason(reason)  # refused before anything is sent: the token is released
        messages = await _to_resend(engine, visitor, ids, period)
        scope = visitor.scope(P.MESSAGES_RESEND)

        async def rows() -> list[dict[str, Any]]:
            try:
                results = await resend_in_engine(
                    engine,
                    messages,
                    ResendRequest(reason=reason, actor=visitor.actor, source=source_of(request)),
                    # Asked between chunks, as a job asks: access taken away stops it there.
                    allowed=still_permitted(engine, scope, messages),
                )
            except DeadLetterError as exc:
                raise BadInput(said(exc)) from None
            shown = await _rows(engine, visitor, results, messages)
            return whole_or_stopped("resend", shown, done=len(results), total=len(messages))

        return _leading_to(await kept_batch(scope, back, rows), came_from)

    try:
        return await once_then_result(
            engine, visitor, "deadletters.resend", once_token, work, result_at=DONE_AT
        )
    except RefusedReason as exc:
        back = _back(list_destination, list_since, list_until)
        refused = said(exc, field=False)
        return await _confirmation(
            request,
            visitor,
            "resend",
            ids,
            back,
            period,
            once_token,
            refused,
            handle=list_search,
            came_from=came_from,
        )


@router.post("/deadletters/discard")
async def discard_letters(
    request: Request,
    visitor: Discarder,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
    ids: Ids = [],  # noqa: B006 (FastAPI copies it)
    once_token: Once = "",
    since: FormMoment = "",
    until: FormMoment = "",
    list_destination: FormTerm = "",
    list_since: FormMoment = "",
    list_until: FormMoment = "",
    list_search: FormHandle = "",
    from_message: FromMessage = "",
) -> Response:
    """A discard takes the ticked ones with their chains wherever in time they died; the
    period only rides along, so a confirmation shown again is the one that was shown."""
    engine = engine_of(request)
    came_from = _came_from(from_message, ids)
    back = await _way_back(
        request, visitor, _back(list_destination, list_since, list_until), list_search
    )

    async def work() -> dict[str, Any]:
        messages = await _in_scope(engine, visitor, P.DEADLETTERS_DISCARD, ids)
        checked_reason(reason)  # refused before anything is closed: the token is released

        async def rows() -> list[dict[str, Any]]:
            return await _discards(
                engine, visitor, messages, reason=reason, source=source_of(request)
            )

        kept_result = await kept_batch(visitor.scope(P.DEADLETTERS_DISCARD), back, rows)
        return _leading_to(kept_result, came_from)

    try:
        return await once_then_result(
            engine, visitor, "deadletters.discard", once_token, work, result_at=DONE_AT
        )
    except RefusedReason as exc:
        back = _back(list_destination, list_since, list_until)
        refused = said(exc, field=False)
        period = _period(since, until)
        return await _confirmation(
            request,
            visitor,
            "discard",
            ids,
            back,
            period,
            once_token,
            refused,
            handle=list_search,
            came_from=came_from,
        )


def _leading_to(result: dict[str, Any], came_from: str) -> dict[str, Any]:
    """A confirmed batch's kept result, with the message whose page it was asked from (if one
    was), which its result page's *Back* leads to (``done_page``)."""
    return {**result, FROM_MESSAGE: came_from} if came_from else result


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
    where the person may read it (another destination may be in someone else's cluster).

    Discarding asks between steps whether the person still may (``still_permitted``, as a
    discard job asks): access taken away meanwhile stops it there, ``JobStopped`` with the rows
    of what was done (``whole_or_stopped``)."""
    act = reason is not None
    reader = visitor.scope(P.MESSAGES_READ)
    # What stays open is read only once every ticked one is done: by then it may be closed.
    rows: list[dict[str, Any] | StaysOpen] = []
    closed: set[str] = set()

    async def row(message: MessageRecord, outcome: str, note: Any = None) -> dict[str, Any]:
        return {
            **await _facts(engine, message),
            "original_id": message.id,
            "outcome": outcome,
            "message_id": None,
            "note": note,
        }

    by_id = {m.id: m for m in messages}
    each, stopped = await discard_each(
        engine.store,
        [m.id for m in messages],
        actor=visitor.actor,
        reason=reason,
        dry_run=not act,
        source=source,
        allowed=still_permitted(engine, visitor.scope(P.DEADLETTERS_DISCARD), messages)
        if act
        else None,
    )
    for done in each:
        message = by_id[done.message_id]
        if done.with_chain_of is not None:
            continue  # its row is in the chain of the one that closed it
        if done.refused is not None:
            said_why = done.refused
            if isinstance(said_why, AlreadyResolved):  # not naming a destination elsewhere
                said_why = said_why.seen_by(reader.destination_ids(engine.catalog))
            rows.append(await row(message, "skipped" if act else "would skip", said(said_why)))
            continue
        plan = done.plan
        assert plan is not None
        outcome = "discarded" if act else "would discard"
        rows.append(await row(message, outcome))
        closed.update(plan.discarded)
        rows.extend([await row(m, outcome, plan.chain_note) for m in plan.chain])
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
                shown.append(await row(member, "stays open", entry.why))
    if not stopped:
        return shown
    return whole_or_stopped("discard", shown, done=len(each), total=len(messages))


@router.get("/deadletters/done/{confirmation_id}")
async def done_page(
    request: Request, visitor: Reader, confirmation_id: str, again: bool = False
) -> Response:
    """What a confirmed resend or discard did; a reload shows it again and does nothing."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or not row.action.startswith("deadletters."):
        raise NotFound()
    action = row.action.removeprefix("deadletters.")
    if action not in ACTIONS:
        raise NotFound()
    # Its rows and its list only within the sight they were written for, as it is now: who
    # lost the action's role or a cluster since sees that it was done, not what it named.
    seen = in_sight(visitor, row, ACTIONS[action])
    rows = shown_rows(row) if seen else []
    back = row.result.get("back") if isinstance(row.result, dict) and seen else None
    kept_from = row.result.get(FROM_MESSAGE) if isinstance(row.result, dict) and seen else None
    # The message it was asked from, read again as an id (never an address), within sight.
    came_from = (stored_id(kept_from) or "") if isinstance(kept_from, str) else ""
    # What it did, counted above its rows; those not done first; the new ones' status now.
    summary = await summed(engine, visitor, rows)
    return page(
        request,
        visitor,
        "deadletters_done.html",
        action=action,
        done=row,
        withheld=not seen,
        stopped=stopped_said(row),
        again=again,
        failed=failed(row),
        rows=summary.rows,
        summary=summary,
        # The list it came from, as ``_way_back`` wrote it (a result kept before: the whole list).
        back=kept.listing_query(back) if isinstance(back, dict) else "",
        came_from=came_from,
        # Every one skipped (a colleague discarded or resent them meanwhile): the heading does
        # not say "Discarded" over a table of nothing discarded.
        none_done=row.finished
        and not failed(row)
        and bool(rows)
        and not any(r.get("outcome") in ("resent", "discarded") for r in rows),
    )
