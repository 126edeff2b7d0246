"""Destinations, changed: add, edit, pause and resume, send a test message, roll back.

Each is the ``DestinationAdmin`` call the API route makes (``POST``/``PATCH``
``/api/v1/destinations``, ``…/pause``, ``…/resume``, ``…/test``, ``…/rollback/{revision}``),
within the person's clusters (``admin.within(scope.allows)``), recorded under ``person:<email>``.
A refused definition comes back with each key's rule (``DefinitionRefused.problems``), shown
beside its field; the form keeps what the person typed.

An edit carries the revision its form was filled with and is saved only if the destination is
still at it (``expected_revision``): otherwise (``DestinationChanged``) the form comes back with
who changed what, the person's changes put on top of the definition in service now, ready to
be saved again. A move into a cluster nobody holds (``UnheldCluster``) is asked about first: the
form comes back with the question and a box to tick, tied to the cluster typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import AccessDenied
from integrator.access.permissions import Permission
from integrator.console.destination_form import (
    ACK_TYPE_FIELDS,
    ACK_TYPE_OPTIONS,
    GENERAL,
    MAX_LENGTHS,
    DestinationForm,
    changes_of,
    definition_of_new,
    form_from,
    form_of,
    rebased,
)
from integrator.console.errors import BadInput, NotAllowed, NotFound
from integrator.console.once import FIELD, confirmation, failed, kept, once_then_result
from integrator.console.pages.destinations import (
    CHANGE_ACTION,
    action_of_test,
    admin_for,
    blank_reason,
    destination_context,
    kept_warning,
    require_destination,
)
from integrator.console.refusals import Said, definition_problem, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.errors import PermanentError
from integrator.http.deps import source_of
from integrator.operators import (
    Change,
    DefinitionRefused,
    DestinationChanged,
    TestResult,
    UnheldCluster,
    UnheldClusters,
    UnknownDestination,
)
from integrator.presenters import versions_table
from integrator.reasons import MAX_REASON
from integrator.refusal import code_of

P = Permission
router = APIRouter()
NAV: Final[list[NavItem]] = []  # reached from the destinations pages
Operator = Annotated[Visitor, Depends(needs(P.DESTINATIONS_WRITE))]
Tester = Annotated[Visitor, Depends(needs(P.DESTINATIONS_TEST))]
Reason = Annotated[str, Form(max_length=MAX_REASON)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]


def _form_page(
    request: Request,
    visitor: Visitor,
    engine: Engine,
    form: DestinationForm,
    *,
    destination_id: str | None,
    status: int = 200,
    changed: DestinationChanged | None = None,
    unheld: UnheldCluster | None = None,
) -> Response:
    """The form; ``changed``: why a save was refused as made to an old revision; ``unheld``:
    the cluster question to confirm."""
    return page(
        request,
        visitor,
        "destination_form.html",
        status=status,
        form=form,
        destination_id=destination_id,
        versions=versions_table(engine.today(), None),
        max_lengths=MAX_LENGTHS,
        ack_type_defaults=ACK_TYPE_FIELDS,
        ack_type_options=ACK_TYPE_OPTIONS,
        changed=changed,
        unheld=unheld,
    )


def _unheld_cluster(posted: Mapping[str, Any], form: DestinationForm) -> UnheldClusters:
    """Ask before putting a destination in a cluster nobody holds, unless the person ticked
    the box for exactly the cluster the form now names (a confirmation of ``CRAD`` does not
    carry over to another value typed afterwards)."""
    confirmed = str(posted.get("confirm_cluster") or "")
    return "warn" if confirmed and confirmed == form.values.get("cluster") else "refuse"


_REFUSED_FIELDS: Final[dict[str, str]] = {
    "destination.provider_elsewhere": "providers",
    "destination.id_not_yours": "id",
    "destination.exists": "id",
    "destination.file_exists": "id",
    "reason.too_long": "reason",
}
"""The field of the form a service's refusal (by its code) is about, to show it beside that
field; any other refusal for someone held to some clusters is about the cluster, and any other
refusal still belongs to no field (shown above the form)."""


def _refused(form: DestinationForm, exc: Exception) -> DestinationForm:
    """``form`` with the service's refusal beside the field it names."""
    code = code_of(exc)[0] or ""
    if isinstance(exc, DefinitionRefused):
        for problem in exc.problems:
            form.error(problem.key, definition_problem(problem))
    elif isinstance(exc, AccessDenied):
        form.error(_REFUSED_FIELDS.get(code, "cluster"), said(exc))
    else:
        form.error(_REFUSED_FIELDS.get(code, GENERAL), said(exc))
    return form


@router.get("/destinations-new")
async def new_form(request: Request, visitor: Operator) -> Response:
    engine = engine_of(request)
    return _form_page(request, visitor, engine, form_of(None), destination_id=None)


@router.post("/destinations-new")
async def add(request: Request, visitor: Operator) -> Response:
    engine = engine_of(request)
    posted = await request.form()
    form = form_from(posted)
    admin = admin_for(request, visitor)
    reason = str(posted.get("reason") or "").strip() or None
    try:
        change = await admin.add(
            definition_of_new(form),
            actor=visitor.actor,
            reason=reason,
            unheld_cluster=_unheld_cluster(posted, form),
        )
    except UnheldCluster as exc:
        return _form_page(
            request, visitor, engine, form, destination_id=None, status=422, unheld=exc
        )
    except (AccessDenied, PermanentError) as exc:
        form = _refused(form, exc)
        return _form_page(request, visitor, engine, form, destination_id=None, status=422)
    return await _saved(request, visitor, change)


@router.get("/destinations/{destination_id}/edit")
async def edit_form(request: Request, visitor: Operator, destination_id: str) -> Response:
    engine = engine_of(request)
    require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
    try:
        view = await engine.admin.view(destination_id)
    except UnknownDestination:
        raise NotFound() from None
    form = form_of(view.config)
    form.revision = view.revision
    return _form_page(request, visitor, engine, form, destination_id=destination_id)


@router.post("/destinations/{destination_id}/edit")
async def edit(request: Request, visitor: Operator, destination_id: str) -> Response:
    engine = engine_of(request)
    require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
    posted = await request.form()
    form = form_from(posted)
    if form.revision is None and str(posted.get("revision") or "").strip():
        raise BadInput(Said("must be a whole number", "console.revision_whole", field="revision"))
    admin = admin_for(request, visitor)
    reason = str(posted.get("reason") or "").strip() or None
    try:
        loaded = form_of(await admin.definition_at(destination_id, form.revision))
        change = await admin.patch(
            destination_id,
            changes_of(form, loaded),
            actor=visitor.actor,
            reason=reason,
            expected_revision=form.revision,
            unheld_cluster=_unheld_cluster(posted, form),
        )
    except UnknownDestination:
        raise NotFound() from None
    except DestinationChanged as exc:
        view = await admin.view(destination_id)
        current = form_of(view.config)
        current.revision = view.revision
        form = rebased(form, loaded, current)
        return _form_page(
            request, visitor, engine, form, destination_id=destination_id, status=409, changed=exc
        )
    except UnheldCluster as exc:
        return _form_page(
            request, visitor, engine, form, destination_id=destination_id, status=422, unheld=exc
        )
    except (AccessDenied, PermanentError) as exc:
        form = _refused(form, exc)
        return _form_page(request, visitor, engine, form, destination_id=destination_id, status=422)
    return await _saved(request, visitor, change)


@router.post("/destinations/{destination_id}/state")
async def set_state(
    request: Request,
    visitor: Operator,
    destination_id: str,
    enabled: Annotated[bool, Form()],
    reason: Reason = "",
) -> Response:
    """Pause or resume, as ``POST …/pause`` and ``…/resume``; the console asks why every time."""
    engine = engine_of(request)
    require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
    refused = blank_reason(reason)
    if refused is not None:
        # The page again, the refusal beside its reason (focused), nothing done.
        return await _page_refused(
            request, visitor, destination_id, change_warnings=[], state_refused=refused
        )
    change = await _run(
        admin_for(request, visitor).set_enabled(
            destination_id, enabled, actor=visitor.actor, reason=reason.strip()
        )
    )
    return await _saved(request, visitor, change)


@router.post("/destinations/{destination_id}/rollback")
async def rollback(
    request: Request,
    visitor: Operator,
    destination_id: str,
    revision: Annotated[int, Form(ge=1)],
    reason: Reason,
    expected_revision: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    """Roll back, as ``POST …/rollback/{revision}?expected_revision=N``: the history page sends
    the newest revision it showed, so a page opened before a colleague's change (a pause, say)
    is refused with who changed what (409), not acted on. The destination stays paused or
    active as it is (``DestinationAdmin.rollback``)."""
    engine = engine_of(request)
    cluster = require_destination(engine, visitor, P.DESTINATIONS_WRITE, destination_id)
    admin = admin_for(request, visitor)
    refused = blank_reason(reason)
    if refused is not None:
        # The history again, the refusal beside that revision's reason (a blank one passes
        # the browser's required), rather than a bare page that loses the history.
        return await _history_again(
            request,
            visitor,
            destination_id,
            cluster,
            422,
            refused=refused,
            refused_revision=revision,
            reason_typed=reason,
        )
    try:
        change = await _run(
            admin.rollback(
                destination_id,
                revision,
                actor=visitor.actor,
                reason=reason.strip(),
                expected_revision=expected_revision,
            ),
            revision=revision,
        )
    except DestinationChanged as exc:
        return await _history_again(
            request,
            visitor,
            destination_id,
            cluster,
            409,
            changed=exc,
            changed_next="dest.rollback.changed_next",
        )
    return await _saved(request, visitor, change)


async def _history_again(
    request: Request,
    visitor: Visitor,
    destination_id: str,
    cluster: str | None,
    status: int,
    **why: Any,
) -> Response:
    """The history page again, with why a rollback posted from it did nothing."""
    revisions = await engine_of(request).admin.history(destination_id)
    return page(
        request,
        visitor,
        "destination_history.html",
        status=status,
        destination_id=destination_id,
        cluster=cluster,
        revisions=list(reversed(revisions)),
        **why,
    )


@router.post("/destinations/{destination_id}/test")
async def send_test(
    request: Request,
    visitor: Tester,
    destination_id: str,
    event_type: Annotated[str, Form(max_length=64)] = "",
    even_if_paused: Annotated[bool, Form()] = False,
    once_token: Once = "",
) -> Response:
    """One test message (MSH-11 ``T``) on its own connection, and the receiver's ACK. A paused
    destination's form has a box to tick to send one anyway; unticked, the service refuses.

    Once per form (``integrator.console.once``): its result is a page of its own (Post/
    Redirect/Get), so a reload shows that result again and sends nothing, and the same form
    posted again (Back and submit, a second click) shows the first post's result, saying so.
    A refusal (paused, a message type it takes not) sends nothing and releases the token."""
    engine = engine_of(request)
    require_destination(engine, visitor, P.DESTINATIONS_TEST, destination_id)

    async def work() -> dict[str, Any]:
        try:
            result = await engine.admin.from_address(source_of(request)).test(
                destination_id,
                event_type or None,
                actor=visitor.actor,
                even_if_paused=even_if_paused,
            )
        except UnknownDestination:
            raise NotFound() from None
        except PermanentError as exc:
            raise _TestRefused(exc) from None
        return asdict(result)  # a synthetic message's facts and its ACK: no patient data

    try:
        return await once_then_result(
            engine,
            visitor,
            action_of_test(destination_id),
            once_token,
            work,
            result_at=f"/destinations/{destination_id}/tested",
        )
    except _TestRefused as refused:
        # Said beside the test's form, on the destination's page: its box to send one to a
        # paused destination anyway is there (an error page of its own said "tick the box"
        # and had none).
        return await _page_refused(
            request, visitor, destination_id, test_problem=said(refused.cause)
        )


async def _page_refused(
    request: Request, visitor: Visitor, destination_id: str, **refused: Any
) -> Response:
    """The destination's page again (422), a form's refusal beside it (``refused``: the
    template's name for it), nothing done."""
    context = await destination_context(engine_of(request), visitor, destination_id)
    return page(request, visitor, "destination.html", status=422, saved=None, **refused, **context)


class _TestRefused(BadInput):
    """The service refused the test before sending anything: a ``ConsoleError``, so the
    one-time token is released (``integrator.console.once``) and the same form may be posted
    again; ``cause`` is said beside the form."""

    def __init__(self, cause: PermanentError) -> None:
        super().__init__(said(cause))
        self.cause = cause


@router.get("/destinations/{destination_id}/tested/{confirmation_id}")
async def result_of_test(
    request: Request,
    visitor: Tester,
    destination_id: str,
    confirmation_id: str,
    again: bool = False,
) -> Response:
    """The destination's page with what its test message did, as kept by its one post; a
    reload shows it again and sends nothing."""
    engine = engine_of(request)
    require_destination(engine, visitor, P.DESTINATIONS_TEST, destination_id)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or row.action != action_of_test(destination_id):
        raise NotFound()
    context = await destination_context(engine, visitor, destination_id)
    return page(
        request,
        visitor,
        "destination.html",
        saved=None,
        test=None if failed(row) else _kept_test(row.result),
        done=row,
        again=again,
        failed=failed(row),
        kind="test",
        **context,
    )


def _kept_test(kept: Any) -> TestResult | None:
    """A test's result as its confirmation keeps it (``asdict``); None while it holds none
    (the first post still at work)."""
    if not isinstance(kept, dict) or not kept:
        return None
    values: dict[str, Any] = {f.name: kept.get(f.name) for f in fields(TestResult)}
    return TestResult(**values)


async def _run(call: Any, *, revision: int | None = None) -> Change:
    """``call``'s change, its refusals said as pages; ``revision``: the one rolled back to."""
    try:
        change: Change = await call
    except DestinationChanged:
        raise  # the caller shows who changed what
    except AccessDenied as exc:
        # The rule of who may do what (a provider another cluster's destination serves, a
        # cluster outside theirs), named in the person's language: not the bare 403 page.
        raise NotAllowed(said(exc)) from None
    except UnknownDestination:
        raise NotFound() from None
    except DefinitionRefused as exc:
        raise BadInput(_definition_refused(exc, revision)) from None
    except PermanentError as exc:
        raise BadInput(said(exc)) from None
    return change


def _definition_refused(exc: DefinitionRefused, revision: int | None) -> Said:
    """A definition refused whole outside the form (a rollback to a revision whose message
    version is retired since, say): its first refused key, where it is, and the rule."""
    problem = exc.problems[0]
    values = {"key": problem.key, "problem": definition_problem(problem)}
    if revision is not None:
        return Said(str(exc), "console.rollback_refused", values={"revision": revision, **values})
    return Said(str(exc), "console.definition_refused", values={"source": problem.file, **values})


async def _saved(request: Request, visitor: Visitor, change: Change) -> Response:
    """Back to the destination, which shows the revision (or that nothing changed), the version
    notices and the change's warnings (unrouted events that wait for a provider it now serves,
    say): those are kept for the page after the redirect (``once.kept``: provider ids and
    counts, never in the URL), each with its code and values to word it in the reader's
    language."""
    query: dict[str, str] = {}
    if change.revision is not None:
        query["saved"] = str(change.revision)
    else:
        # The service recorded nothing (no revision, no audit entry): said, rather than a
        # page that looks as if the save had not been pressed.
        query["unchanged"] = "1"
    if change.warnings:
        warnings = [kept_warning(w) for w in change.warnings]
        query["change"] = await kept(
            engine_of(request),
            visitor,
            CHANGE_ACTION,
            {"destination": change.destination_id, "warnings": warnings},
        )
    shown = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"/destinations/{change.destination_id}{shown}", status_code=303)
