"""One message: what happened to it, what was sent, and resending it after a preview.

Who may read patient data in the message's cluster gets what ``GET /api/v1/messages/{id}``
answers, from the same service (``message_service.read_message``), which audits the view: the
event with the patient, the HL7 with the field names of its version, the raw text with its
separators shown, and each ACK beside it. Who may only read message summaries there
(``viewer``, ``reports``) gets the summary and the attempts without the receiver's text, as in
listings. Outside the person's clusters: 404.

Resending (``messages.resend`` in the cluster) shows first what would be sent, as a dry run of
the same resend (``integrator.resend_preview``), field by field against what was sent, after
the checks of the resend itself (``message_service.check_resend``); then the service that
``POST /api/v1/messages/{id}/resend`` calls resends (``message_service.resend_message``),
under the person's name. The preview's form carries a one-time token
(``integrator.console.once``): two quick clicks on *Resend now*, or the form posted again,
make one new message. The preview lists the resends made of the message already, and its form
carries the newest of them (``seen``): a resend made since (a colleague's, the page left open,
or confirmed at the same moment) stops *Resend now*, which shows the preview again with it
(409) and sends nothing; confirmed again, it resends. The service checks that where it
records the resend (``integrator.resent_since``), so of two confirmations at once one resends.
The mode may be left to the service (``""``: the same bytes to the message's own destination,
a remap to another, which the original bytes are not addressed to).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from deadletter import DeadLetterError, ResendRequest, UnknownMessageId, discard_of
from integrator.access.permissions import Permission
from integrator.clusters import NotPermitted, cluster_of
from integrator.console.answers import show_once
from integrator.console.errors import BadInput, ConsoleError, Forbidden, NotFound
from integrator.console.links import opens_destination
from integrator.console.once import FIELD, confirmation, failed, issue, once
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.hl7names import named_fields
from integrator.hl7view import segment_lines
from integrator.http.deps import source_of
from integrator.message_reads import (
    dead_letter_states,
    messages_in_sight,
    named_instead,
    typed_control_id,
)
from integrator.message_service import (
    AmbiguousMessageId,
    MessageNotFound,
    ResentSince,
    check_resend,
    locate_message,
    read_message,
    resend_message,
    resend_targets,
    visible_message,
    visible_resends,
)
from integrator.presenters import attempt_history, late_answer_view, message_overview
from integrator.reasons import MAX_REASON
from integrator.resend_preview import preview_resend
from integrator.store import MessageRecord, ResendRecord
from integrator.store.idprefix import MIN_PREFIX, BadIdPrefix
from integrator.transport.committed import RESEND_AWAY

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []
PENDING: Final = ("queued", "sending", "retrying")

Reader = Annotated[Visitor, Depends(needs(P.MESSAGES_READ))]
Resender = Annotated[Visitor, Depends(needs(P.MESSAGES_RESEND))]
Reason = Annotated[str, Form(max_length=MAX_REASON)]
Mode = Annotated[Literal["original", "remap", ""], Form()]
To = Annotated[str, Form(max_length=200)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
Seen = Annotated[str, Form(max_length=100)]


async def _message(engine: Engine, visitor: Visitor, message_id: str) -> MessageRecord:
    """The message, if the person may see it at all; else 404 as for an unknown id."""
    if len(message_id) > 64:
        raise NotFound()
    try:
        return await visible_message(engine, visitor.scope(P.MESSAGES_READ), message_id)
    except MessageNotFound:
        raise NotFound() from None


ACK_SHOWN_MAX = 20_000
"""The most characters of an ACK the message's page lays out: a receiver decides how long its
ACK is (up to the 64 MiB of an MLLP frame), and one that echoed the message in MSA-3 made a page
of megabytes, each separator its own element. The API gives the ACK whole."""


def separated(text: str) -> list[list[tuple[str, bool]]]:
    """Each segment as pieces of text and separators, so a page can make the separators
    visible (``|``, ``^``, ``~``, ``\\``, ``&``), one segment per line."""
    separators = "|^~\\&"
    lines = []
    for segment in text.replace("\n", "\r").split("\r"):
        if not segment:
            continue
        pieces: list[tuple[str, bool]] = []
        current = ""
        for char in segment:
            if char in separators:
                if current:
                    pieces.append((current, False))
                pieces.append((char, True))
                current = ""
            else:
                current += char
        if current:
            pieces.append((current, False))
        lines.append(pieces)
    return lines


async def _detail(
    request: Request, engine: Engine, visitor: Visitor, message: MessageRecord
) -> dict[str, Any]:
    cluster = cluster_of(engine.catalog, message.destination_id)
    if visitor.may(P.PATIENT_DATA_READ, cluster):
        # The API's answer, from the same service, which audits the view.
        try:
            reading = await read_message(
                engine, visitor.scope(P.PATIENT_DATA_READ), message.id, source=source_of(request)
            )
        except MessageNotFound:  # gone, or moved out of reach, since it was looked up
            raise NotFound() from None
        except NotPermitted:
            raise Forbidden() from None
        return reading.to_json()
    seen = visitor.scope(P.MESSAGES_READ).destination_ids(engine.catalog)
    (message,) = await messages_in_sight(engine.store, [message], seen)
    states = await dead_letter_states(engine.store, [message])
    detail = message_overview(message, dead_state=states.get(message.id))
    attempts = await engine.store.list_attempts(message.id)
    detail["attempt_history"] = attempt_history(message, attempts)
    # Codes and times only: no patient data, so the summary shows them too.
    late = await engine.store.late_answers_of(message.id)
    detail["late_answers"] = [late_answer_view(a) for a in late]
    return detail


async def _discarded(
    engine: Engine, message: MessageRecord, detail: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Who discarded a dead letter, when and why (``deadletter.discard_of``, as
    ``integrator deadletter show`` says it); None for a message not discarded.

    A discarded dead letter is ``cancelled``, and its page said only that: the timeline ended
    at the attempt it died at. The dead letters page lists the open ones only and the audit
    trail is the admin's, so support, asked by a GP about it, could not learn who closed it or
    why, and could resend a referral a colleague had closed on purpose. Its reason holds no
    patient data (every reason's rule), so it is shown as a resend's is.

    The page's full view (``_detail``: the API's reading) carries it as ``discarded``
    already; its summary, for who may not read patient data, and the resend preview are no
    such reading (``detail`` None), and read it here."""
    if detail is not None and "discarded" in detail:
        shown: dict[str, Any] | None = detail["discarded"]
        return shown
    gone = await discard_of(engine.store, message)
    if gone is None:
        return None
    return {"by": gone.by, "at": gone.at.isoformat(), "reason": gone.reason}


async def _progress(
    engine: Engine, visitor: Visitor, message: MessageRecord, detail: dict[str, Any]
) -> dict[str, Any]:
    """What the parts of the page that follow the message's delivery are drawn from
    (``_message_progress.html``): by the page, and again by its status refresh when the status
    or the number of attempts changed, so the two cannot tell a different story."""
    cluster = cluster_of(engine.catalog, message.destination_id)
    origin, _ = await engine.store.list_resends(message.id)
    return {
        "m": detail,
        "full": "hl7" in detail,
        # A resend of the original's bytes: made by no mapping, so the timeline does not say
        # "mapped as".
        "copied": origin is not None and origin.mode == "original",
        # On its way, or dead with a resend of it on its way: its page asks for changes, and
        # stops once nothing can change (delivered, or dead and open or resolved).
        "pending": message.status in PENDING or detail.get("dead_letter_state") == "resending",
        "may_resend": visitor.may(P.MESSAGES_RESEND, cluster),
        # Closed without a delivery: who did it, when and why, in the summary and the timeline.
        "discarded": await _discarded(engine, message, detail),
        # Waiting out its backoff: Try now is offered, with when its next attempt comes. Due
        # already (tried now a moment ago, or its time has come): said instead.
        "next_attempt_at": message.next_attempt_at,
        "waits": message.status == "retrying"
        and message.next_attempt_at is not None
        and message.next_attempt_at > engine.clock.now(),
        "separated": separated,
        "ack_shown_max": ACK_SHOWN_MAX,
    }


class NoSuchMessage(NotFound):
    """No message the person may see has the id in the address: a mistyped or half-copied one
    above all, so the answer leads on to the message search (its route asks ``messages.read``,
    as the search does), not only back to the start page."""

    text_key = "message.lookup.unknown"
    again = "/messages"
    again_key = "message.lookup.search"


async def _located(request: Request, visitor: Visitor, message_id: str) -> str | Response:
    """The whole id a short one names (as the CLI reads it), or the page that says which ids
    it could be (ambiguous) or that it is too short. Never echoes what was typed."""
    if len(message_id) > 64:
        raise NoSuchMessage()
    engine = engine_of(request)

    def lookup(status: int, **facts: Any) -> Response:
        """The page about a short id that names no one message: ``facts`` say why."""
        shown = {"candidates": (), "more": False, "too_short": False, "instead": None, **facts}
        return page(
            request, visitor, "message_lookup.html", status=status, shortest=MIN_PREFIX, **shown
        )

    try:
        return await locate_message(engine, visitor.scope(P.MESSAGES_READ), message_id)
    except MessageNotFound:
        # An event's or rejected input's id, copied from their pages into a message's address:
        # said, with the way to it, as ``integrator messages show`` says it.
        instead = await named_instead(engine.store, visitor.signed_in, message_id)
        if instead is None:
            raise NoSuchMessage() from None
        kind, found = instead
        event_page = visitor.may_somewhere(P.PATIENT_DATA_READ)
        return lookup(
            404,
            instead=kind,
            found=found,
            event_page=event_page,
            control_id=typed_control_id(message_id),
        )
    except AmbiguousMessageId as exc:
        return lookup(409, candidates=exc.candidates, more=exc.more)
    except BadIdPrefix:
        return lookup(404, too_short=True)


@router.get("/messages/{message_id}")
async def message_page(
    request: Request,
    visitor: Reader,
    message_id: str,
    again: str | None = None,
    away: bool = False,
    tried: bool | None = None,
) -> Response:
    """One message; an id shortened as listings and the CLI show it goes to the whole one.
    ``tried``: back from *Try now* (``pages.try_now``), which made its retry due (or found it
    attempted already)."""
    engine = engine_of(request)
    located = await _located(request, visitor, message_id)
    if isinstance(located, Response):
        return located
    if located != message_id:
        query = f"?{urlencode({'again': again})}" if again else ""
        return RedirectResponse(f"/messages/{located}{query}", status_code=303)
    message = await _message(engine, visitor, message_id)
    # A resend confirmed a second time lands here: say that the first one did it.
    done = await confirmation(engine, visitor, again) if again else None
    detail = await _detail(request, engine, visitor, message)
    progress = await _progress(engine, visitor, message, detail)
    full = progress["full"]
    resend_of = None
    summary_resends: list[dict[str, str]] = []
    if not full:
        resend_of = detail["resend_of"]
        # The resends it led to, as identifiers and facts (their reasons are the full view's).
        summary_resends = [
            {
                "message_id": r.message_id,
                "destination": r.destination_id,
                "mode": r.mode,
                "status": r.status,
                "at": r.at.isoformat(),
            }
            for r in await visible_resends(engine, visitor.scope(P.MESSAGES_READ), message)
        ]
    return page(
        request,
        visitor,
        "message.html",
        resend_of=resend_of,
        summary_resends=summary_resends,
        fields=named_fields(detail["hl7"]) if full else [],
        # Long values (attachments in base64) shortened, as the CLI shows them.
        raw=separated("\r".join(segment_lines(detail["hl7"], max_field=200))) if full else [],
        # Its destination's page, linked for who may open it (``links.opens_destination``).
        destination_link=opens_destination(engine.catalog, visitor, message.destination_id),
        # Only those a resend would take: in the person's clusters, taking its event type.
        targets=resend_targets(engine, visitor.scope(P.MESSAGES_RESEND), message),
        # A dead letter still to act on is discarded from here too, through the dead letters'
        # confirmation (``pages.deadletters.confirm``): found by its ZD number, it was
        # otherwise to be looked for again among the dead letters, which no ZD number filters.
        may_discard=message.status == "dead"
        and detail.get("dead_letter_state") != "resolved"
        and visitor.may(P.DEADLETTERS_DISCARD, cluster_of(engine.catalog, message.destination_id)),
        done=done,
        away=RESEND_AWAY if away else None,  # just resent while the broker is away
        tried=tried,
        failed=done is not None and failed(done),
        **progress,
    )


@router.get("/messages/{message_id}/status")
async def message_status(
    request: Request,
    visitor: Reader,
    message_id: str,
    shown: str | None = None,
    attempts: Annotated[int | None, Query(ge=0)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The status badge, which the page refreshes while the message is on its way, with the
    parts of the page that follow its delivery (``_progress``: attempts, last error, timeline,
    *Try now*, the latest ACK), swapped in out of band.

    The badge sits in a ``role="status"`` region (``message.html``), which a screen reader
    reads out whenever its content is replaced: so while the status and the number of attempts
    are still the ones the page ``shown``, nothing is sent (204, which htmx does not swap) and
    nothing is said. A change is read as the page reads it (``_detail``): for who reads the
    message in full, a view of it recorded as the page's is, as it shows the receiver's words
    of the new attempt.

    A dead message's page asks while a resend of it is on its way (``state``, where the dead
    message stood when drawn: ``resending``): the "· being resent" beside it became "·
    resolved" once the resend was delivered (or nothing, open again, once it died too) only
    at a reload."""
    engine = engine_of(request)
    message = await _message(engine, visitor, message_id)
    if shown == message.status and attempts in (None, message.attempt_count):
        if message.status != "dead" or state is None:
            return Response(status_code=204)
        standing = (await dead_letter_states(engine.store, [message])).get(message.id)
        if state == standing:
            return Response(status_code=204)
    detail = await _detail(request, engine, visitor, message)
    return page(
        request,
        visitor,
        "message_status.html",
        status=200,
        progress=True,
        **await _progress(engine, visitor, message, detail),
    )


def _resend_scope(engine: Engine, visitor: Visitor, message: MessageRecord, to: str | None) -> None:
    """The checks of ``POST /api/v1/messages/{id}/resend``: the service's, said as pages."""
    try:
        check_resend(engine.catalog, visitor.scope(P.MESSAGES_RESEND), [message], to)
    except UnknownMessageId:
        raise NotFound() from None
    except NotPermitted:
        raise Forbidden() from None
    except DeadLetterError as exc:
        raise BadInput(said(exc)) from None


def _action(message: MessageRecord) -> str:
    """What a preview's one-time token confirms: resending this message, no other."""
    return f"message.resend:{message.id}"


class ResentMeanwhile(ConsoleError):
    """A resend of the message was made after the preview was shown: nothing is sent, and
    the token is released (``once``), so the preview shown again can be confirmed."""

    status = 409


async def _resends(engine: Engine, visitor: Visitor, message: MessageRecord) -> list[ResendRecord]:
    """The resends made of ``message`` that the person sees, oldest first."""
    return await visible_resends(engine, visitor.scope(P.MESSAGES_READ), message)


@router.post("/messages/{message_id}/resend/preview")
async def resend_preview(
    request: Request,
    visitor: Resender,
    message_id: str,
    reason: Reason,
    mode: Mode = "",
    to: To = "",
) -> Response:
    engine = engine_of(request)
    message = await _message(engine, visitor, message_id)
    return await _preview_page(request, visitor, message, reason, mode, to)


async def _preview_page(
    request: Request,
    visitor: Visitor,
    message: MessageRecord,
    reason: str,
    mode: str,
    to: str,
    *,
    token: str | None = None,
    meanwhile: bool = False,
) -> Response:
    """The preview of a resend, with the resends made of the message already. ``token``: the
    one-time token of the form shown again (``meanwhile``: a resend was made since it was
    first shown), still unused; else a new one."""
    engine = engine_of(request)
    target = to.strip() or None
    _resend_scope(engine, visitor, message, target)
    if not reason.strip():
        raise BadInput(Said("a reason is required", "reason.required"), field="reason")
    ask = ResendRequest(reason=reason, actor=visitor.actor, mode=mode or None, to=target)
    try:
        preview = await preview_resend(
            engine,
            message.id,
            ask,
            identity=visitor.signed_in,
            source=source_of(request),
        )
    except DeadLetterError as exc:  # a value refused (RefusedValue) names its field
        raise BadInput(said(exc), field=getattr(exc, "field", None)) from None
    earlier = await _resends(engine, visitor, message)
    goes_to = preview.result.destination_id if preview.result.goes_out else None
    standing = await _standing(engine, message, goes_to) if goes_to is not None else {}
    if preview.result.goes_out:
        once_token = token or await issue(engine, visitor, _action(message))
    else:
        once_token = ""
    # A view of patient data (a remap's fields), recorded: without JavaScript the preview is
    # shown once after the redirect (``answers``), so a reload, or Back after *Resend now*,
    # shows the message's own page (its view recorded as every view is), never a resent form.
    return show_once(
        page(
            request,
            visitor,
            "resend_preview.html",
            status=409 if meanwhile else 200,
            m={"id": message.id},
            preview=preview,
            reason=reason.strip(),
            mode=mode,
            to=target or "",
            once=once_token,
            earlier=list(reversed(earlier)),  # the newest first
            seen=earlier[-1].message_id if earlier else "",
            meanwhile=meanwhile,
            **standing,
        )
    )


async def _standing(engine: Engine, message: MessageRecord, goes_to: str) -> dict[str, Any]:
    """What the preview says of the message before *Resend now*, when a resend sends again
    what needed no resend: ``delivered``, the attempt its destination acknowledged (when, the
    ACK code), when the resend goes to that destination (``goes_to``) again; or
    ``discarded``, who closed it, when and why, wherever it goes. The batch's confirmation
    counts the delivered ones (*1 of them was delivered already*); one message's preview said
    only "the same as what was sent", above a button that makes the destination's second
    copy, or sends a referral a colleague had closed on purpose."""
    if message.status == "delivered" and goes_to == message.destination_id:
        attempts = await engine.store.list_attempts(message.id)
        took = [a for a in attempts if a.outcome == "delivered"]
        last = took[-1] if took else None
        return {
            "delivered": {
                "at": (last.started_at if last is not None else message.updated_at).isoformat(),
                "code": (last.ack_code if last is not None else None) or "-",
                "destination": message.destination_id,
                "control_id": message.control_id,
            }
        }
    discarded = await _discarded(engine, message)
    return {"discarded": discarded} if discarded is not None else {}


@router.post("/messages/{message_id}/resend")
async def resend(
    request: Request,
    visitor: Resender,
    message_id: str,
    reason: Reason,
    mode: Mode = "",
    to: To = "",
    once_token: Once = "",
    seen: Seen = "",
) -> Response:
    """Resend as the preview showed, once per preview: the same form posted twice (two quick
    clicks, a reload, Back and submit) makes one new message, and the later posts land on
    it with a notice. ``seen``: the newest resend of the message the preview listed; one made
    since (the preview's page left open while a colleague resent it) sends nothing and shows
    the preview again, with that resend."""
    engine = engine_of(request)
    message = await _message(engine, visitor, message_id)
    if not visitor.may(P.MESSAGES_RESEND, cluster_of(engine.catalog, message.destination_id)):
        raise Forbidden()

    async def work() -> dict[str, Any]:
        # Only the first post of the form gets here: a repeat lands on what that one made.
        # The API's service: the same checks, the same resend, recorded as this person; it
        # checks that no resend was made since ``seen`` where it records this one, so two
        # colleagues confirming at the same moment make one.
        try:
            result = await resend_message(
                engine,
                visitor.scope(P.MESSAGES_RESEND),
                message.id,
                reason=reason,
                mode=mode or None,
                to=to.strip() or None,
                source=source_of(request),
                expected_newest=seen,
            )
        except ResentSince:
            raise ResentMeanwhile() from None
        except MessageNotFound:
            raise NotFound() from None
        except NotPermitted:
            raise Forbidden() from None
        except DeadLetterError as exc:
            raise BadInput(said(exc)) from None
        # Stored, but the broker is away: the new message's page says it goes out when it is
        # back, so nobody resends it again.
        return {"message_id": result.to_json()["message_id"], "away": result.note == RESEND_AWAY}

    try:
        done = await once(engine, visitor, _action(message), once_token, work)
    except ResentMeanwhile:
        return await _preview_page(
            request, visitor, message, reason, mode, to, token=once_token, meanwhile=True
        )
    made = done.result.get("message_id") if isinstance(done.result, dict) else None
    if not done.repeated and made:
        away = isinstance(done.result, dict) and done.result.get("away") is True
        return RedirectResponse(f"/messages/{made}{'?away=1' if away else ''}", status_code=303)
    # Posted again: to what the first post made (or, not done yet, to this message) with a
    # notice that nothing was sent again.
    return RedirectResponse(f"/messages/{made or message.id}?again={done.id}", status_code=303)
