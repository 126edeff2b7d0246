"""People (admin): the list with grants, inviting, changing grants per cluster, deactivating a
role or the account, sending an invitation again, resetting a second factor. Deactivating and
resetting (a lost phone) each lead to a page that says what will happen, and only its form
acts; a refused change or invitation is shown on its form, with what was typed.

Every rule is ``AccessService``'s (who may give which grant in which cluster, what an
invitation needs, that a change of someone's access has a reason, that nobody changes their
own); each action below is one call to it, made as the signed-in admin, so the audit trail
records ``person:<email>``. Refusals are shown with the service's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import AccessDenied, AccessRefusals, BadAccessInput
from integrator.access.mail import MailFailed
from integrator.access.permissions import Permission
from integrator.access.service import InvitationLink, PersonView, TokenView, grants_seen
from integrator.console.access_form import AccessForm, TypedGrant, typed_grants
from integrator.console.answers import show_once
from integrator.console.errors import BadInput, NotFound
from integrator.console.grants_form import GRANT_ROWS, Refusal, grants_of, offered, refusal
from integrator.console.once import FIELD, confirmation, failed, issue, once
from integrator.console.refusals import Said, said
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of
from integrator.reasons import MAX_REASON

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/people", "nav.people", P.PEOPLE_MANAGE)]
Admin = Annotated[Visitor, Depends(needs(P.PEOPLE_MANAGE))]
# A bound on what a posted field carries, above every field's own: the service names each
# field's rule itself, all at once (a 250-character name beside a wrong address and no role
# says all three), where a form bound refused the form before the service saw it.
Text = Annotated[str, Form(max_length=MAX_REASON)]
Reason = Annotated[str, Form(max_length=MAX_REASON)]
Roles = Annotated[list[str], Form(max_length=GRANT_ROWS)]
Clusters = Annotated[list[str], Form(max_length=GRANT_ROWS)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]


def _reinvite_action(person_id: str) -> str:
    """A reinvite form's one-time token names its person: it sends no one else's again."""
    return f"people.reinvite:{person_id}"


class _Refused(BadInput):
    """The service refused before anything was done: the one-time token is released (so the
    same form may be posted again) and the page shows ``cause`` as it did before."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _people(engine: Engine, visitor: Visitor) -> list[PersonView]:
    try:
        return await engine.access.list_people(visitor.signed_in)
    except (AccessDenied, BadAccessInput) as exc:
        raise refusal(exc) from None


async def _person(engine: Engine, visitor: Visitor, person_id: str) -> PersonView:
    for person in await _people(engine, visitor):
        if person.id == person_id:
            return person
    raise NotFound()


@router.get("/people")
async def people(request: Request, visitor: Admin) -> Response:
    return await _people_page(request, visitor, AccessForm({}))


async def _people_page(
    request: Request, visitor: Visitor, form: AccessForm, *, status: int = 200
) -> Response:
    """The list and the invitation form, filled with ``form`` (what was typed, and why it was
    refused)."""
    listed = await _people(engine_of(request), visitor)
    return page(
        request,
        visitor,
        "people.html",
        status=status,
        people=listed,
        now=engine_of(request).clock.now(),  # to tell an invitation whose link expired
        # Only what this admin may give, and why not the rest: the service's answer.
        offered=await offered(engine_of(request).access, visitor.signed_in, to="person"),
        rows=GRANT_ROWS,
        form=form,
    )


@router.post("/people/invite")
async def invite(
    request: Request,
    visitor: Admin,
    email: Text,
    name: Text = "",
    role: Roles = [],  # noqa: B006 (FastAPI copies defaults)
    cluster: Clusters = [],  # noqa: B006
) -> Response:
    engine = engine_of(request)
    form = AccessForm({"email": email.strip(), "name": name.strip()}, typed_grants(role, cluster))
    preset = (await offered(engine.access, visitor.signed_in, to="person")).preset
    try:
        link = await engine.access.invite(
            visitor.signed_in,
            email,
            grants_of(role, cluster, preset=preset),
            name=name.strip() or None,
            source=source_of(request),
        )
    except (AccessDenied, BadAccessInput, Refusal) as exc:
        form.refuse(exc)
        return await _people_page(request, visitor, form, status=form.status)
    except MailFailed as exc:
        # The person is invited; only the mail did not go: the page says so and how to go on.
        raise refusal(exc) from None
    # The link is a secret: shown once after the redirect (``answers``), then the list.
    return show_once(page(request, visitor, "people_link.html", link=link))


@dataclass(frozen=True, slots=True)
class Problem:
    """A refused change, shown on its own form with what was typed: ``form`` names the form
    (``grants``, or ``role:<role>@<cluster>`` for one grant's), ``reason`` is what was typed;
    ``messages`` are the service's refusals, all of them at once (the grants and the reason
    of one form), each worded in the person's language when shown."""

    form: str
    messages: tuple[Said, ...]
    reason: str

    @property
    def message(self) -> Said:
        """The first refusal: what a form of one field (a reason) shows."""
        return self.messages[0]

    @property
    def about_reason(self) -> bool:
        return any(message.field == "reason" for message in self.messages)

    @property
    def about_grants(self) -> tuple[Said, ...]:
        """The refusals of the grant rows: every one not about the reason."""
        return tuple(message for message in self.messages if message.field != "reason")


def _problem_of(exc: Exception, form: str, reason: str) -> tuple[Problem, int]:
    """The service's refusals as the form shows them, and the page's status (403 when one is
    about who may, else 422). A rule about one input names it as the form does
    (``reason: …``), not the command line's ``--reason`` (``refusals.said``)."""
    refused = _each_refusal(exc)
    denied = any(isinstance(one, AccessDenied) for one in refused)
    return Problem(form, tuple(said(one) for one in refused), reason), 403 if denied else 422


def _each_refusal(exc: Exception) -> list[Exception]:
    """The service's refusals in ``exc``: several said together (``AccessRefusals``), or it."""
    return list(exc.problems) if isinstance(exc, AccessRefusals) else [exc]


def _refused_for(exc: Exception, code: str) -> bool:
    """Whether one of the service's refusals in ``exc`` is the one coded ``code``."""
    return any(getattr(one, "code", None) == code for one in _each_refusal(exc))


async def _person_page(
    request: Request,
    visitor: Visitor,
    found: PersonView,
    *,
    problem: Problem | None = None,
    typed: list[TypedGrant] | None = None,
    status: int = 200,
    done: Done | None = None,
) -> Response:
    """The person, their grants and forms, and the working tokens they made, each with its
    roles in force and those suspended (a role that reads patient data taken from the person
    is taken from these tokens too), so the page after a change names what it took."""
    own = found.id == visitor.signed_in.id
    made = await engine_of(request).access.tokens_made_by(visitor.signed_in, found.id)
    engine = engine_of(request)
    # Deactivating and resetting act on the whole account: their buttons are shown only when
    # the service's own check (an admin wherever the account reaches) lets the visitor.
    whole = not own and await engine.access.may_act_on_account(visitor.signed_in, found.email)
    reinvite_once = (
        await issue(engine, visitor, _reinvite_action(found.id))
        if found.status == "invited"
        else ""
    )
    # The grants this admin may change: a one-cluster admin's form holds only those of their
    # clusters (the service keeps the others as they are), and no grant elsewhere offers a
    # button that could only be refused (an all-clusters admin's admin@*, say).
    manageable = [g for g in found.grants if visitor.may(Permission.PEOPLE_MANAGE, g.cluster)]
    # A deactivated account holds nothing (``AccessService``: it signs in nowhere, its own
    # tokens stopped, and the tokens it made read no patient data through it), and the
    # service refuses every other change to it; taking one of its roles away would change
    # nothing but add an audit entry. So its page offers nothing to do: its roles are shown
    # as it held them, for the record.
    deactivated = found.status == "deactivated"
    takeable = [] if own or deactivated else manageable
    forms = set() if own or deactivated else {"grants"}
    forms |= {f"role:{g.role.value}@{g.cluster or '*'}" for g in takeable}
    return page(
        request,
        visitor,
        "person.html",
        status=status,
        person=found,
        now=engine.clock.now(),  # to tell a link that still works from one that expired
        offered=await offered(engine.access, visitor.signed_in, to="person"),
        rows=GRANT_ROWS,
        problem=problem,
        # A refusal whose form is not on the page (one's own page has none) shows at the top.
        problem_elsewhere=problem is not None and problem.form not in forms,
        typed=typed,
        made_tokens=made,
        review=await _review(engine, visitor, found),
        manageable=manageable,
        takeable=takeable,
        may_act_on_account=whole,
        once=reinvite_once,
        # What the roles form is drawn from: a save after a colleague's change is refused.
        seen=grants_seen(visitor.signed_in, found.grants),
        done=done,
    )


async def _review(engine: Engine, visitor: Visitor, found: PersonView) -> list[str]:
    """The actors whose entries make up what ``found`` did: the person, then their tokens
    (``AccessService.token_actors_of``), whose actions the trail records under the token's name
    only; each offered as a search of the trail. None for who may not read the whole trail."""
    if not visitor.may(Permission.AUDIT_READ):
        return []
    actor = f"person:{found.email}"
    return [actor, *await engine.access.token_actors_of(visitor.signed_in, actor)]


Done = Literal["roles", "roles_links_stopped", "role_taken", "deactivated"]
"""What the person's page says was done, after the redirect of a change that did it: a save
that answered only with the same page said nothing."""


@router.get("/people/{person_id}")
async def person(
    request: Request, visitor: Admin, person_id: str, done: Done | None = None
) -> Response:
    found = await _person(engine_of(request), visitor, person_id)
    return await _person_page(request, visitor, found, done=done)


@router.post("/people/{person_id}/grants")
async def set_grants(
    request: Request,
    visitor: Admin,
    person_id: str,
    reason: Reason = "",
    role: Roles = [],  # noqa: B006
    cluster: Clusters = [],  # noqa: B006
    seen: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    preset = (await offered(engine.access, visitor.signed_in, to="person")).preset
    try:
        changed = await engine.access.set_grants(
            visitor.signed_in,
            found.email,
            grants_of(role, cluster, preset=preset),
            reason=reason,
            source=source_of(request),
            seen=seen or None,
        )
    except (AccessDenied, BadAccessInput, Refusal) as exc:
        problem, status = _problem_of(exc, "grants", reason)
        # Roles changed since the form was drawn: it shows them as they are now, not what
        # was typed over the old ones (saved again, that would give back what was taken).
        stale = _refused_for(exc, "access.grants_changed")
        typed = None if stale else typed_grants(role, cluster)
        return await _person_page(
            request,
            visitor,
            await _person(engine, visitor, person_id) if stale else found,
            problem=problem,
            typed=typed,
            status=409 if stale else status,
        )
    # A role that reads patient data given to someone not yet set up stopped their link.
    done = "roles_links_stopped" if changed.links_stopped else "roles"
    return RedirectResponse(f"/people/{person_id}?done={done}", status_code=303)


@router.post("/people/{person_id}/deactivate-role")
async def deactivate_role(
    request: Request,
    visitor: Admin,
    person_id: str,
    role: Annotated[str, Form(max_length=64)],
    cluster: Annotated[str, Form(max_length=256)] = "",
    reason: Reason = "",
) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        [grant] = grants_of([role], [cluster])
        await engine.access.deactivate_role(
            visitor.signed_in,
            found.email,
            grant.role,
            grant.cluster,
            reason=reason,
            source=source_of(request),
        )
    except (AccessDenied, BadAccessInput, Refusal) as exc:
        problem, status = _problem_of(exc, f"role:{role}@{cluster or '*'}", reason)
        return await _person_page(request, visitor, found, problem=problem, status=status)
    return RedirectResponse(f"/people/{person_id}?done=role_taken", status_code=303)


@router.get("/people/{person_id}/deactivate")
async def confirm_deactivate(request: Request, visitor: Admin, person_id: str) -> Response:
    """What deactivating does, with the form that does it: nothing changes on this page.

    It lists the machines' tokens the person made, which go on working after the account is
    deactivated, so the admin sees them and can revoke those that should not."""
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    kept = await _kept_tokens(engine, visitor, found)
    return page(request, visitor, "person_deactivate.html", person=found, problem=None, kept=kept)


@router.post("/people/{person_id}/deactivate")
async def deactivate(
    request: Request, visitor: Admin, person_id: str, reason: Reason = ""
) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        await engine.access.deactivate_person(
            visitor.signed_in, found.email, reason=reason, source=source_of(request)
        )
    except (AccessDenied, BadAccessInput) as exc:
        problem, status = _problem_of(exc, "deactivate", reason)
        return page(
            request,
            visitor,
            "person_deactivate.html",
            status=status,
            person=found,
            problem=problem,
            kept=await _kept_tokens(engine, visitor, found),
        )
    return RedirectResponse(f"/people/{person_id}?done=deactivated", status_code=303)


async def _kept_tokens(engine: Engine, visitor: Visitor, found: PersonView) -> list[TokenView]:
    """The machines' tokens ``found`` made that deactivating leaves working; none shown when
    the visitor may not act on the whole account (the form's answer says why)."""
    try:
        return await engine.access.machine_tokens_made_by(visitor.signed_in, found.email)
    except (AccessDenied, BadAccessInput):
        return []


@router.post("/people/{person_id}/reinvite")
async def reinvite(
    request: Request, visitor: Admin, person_id: str, once_token: Once = ""
) -> Response:
    """A new link, made once per form: the form's one-time token makes a reload of the
    answer (or Back and submit, or a double click) do nothing, so the link the admin already
    passed on keeps working. The link is shown in this answer only and is stored nowhere (a
    secret); a repeated post is redirected to a result page that says so
    (``reinvited``)."""
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    made: list[InvitationLink] = []

    async def work() -> dict[str, Any]:
        try:
            link = await engine.access.reinvite(
                visitor.signed_in, found.email, source=source_of(request)
            )
        except (AccessDenied, BadAccessInput) as exc:
            raise _Refused(exc) from None
        made.append(link)
        # What the result page says again: never the link itself.
        return {"email": link.email, "expires_at": link.expires_at.isoformat(), "sent": link.sent}

    try:
        done = await once(engine, visitor, _reinvite_action(found.id), once_token, work)
    except _Refused as refused:
        raise refusal(refused.cause) from None
    except MailFailed as exc:
        raise refusal(exc) from None
    if made and not done.repeated:
        return show_once(page(request, visitor, "people_link.html", link=made[0]))
    return RedirectResponse(f"/people/{person_id}/reinvited/{done.id}", status_code=303)


@router.get("/people/{person_id}/reinvited/{confirmation_id}")
async def reinvited(
    request: Request, visitor: Admin, person_id: str, confirmation_id: str
) -> Response:
    """The result of a reinvite form posted again: it was done once, by whom and when; the
    link was shown that once and is not stored, so a new one means sending it again."""
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or row.action != _reinvite_action(found.id):
        raise NotFound()
    return page(
        request,
        visitor,
        "people_reinvited.html",
        person=found,
        done=row,
        failed=failed(row),
        sent=isinstance(row.result, dict) and bool(row.result.get("sent")),
    )


@router.get("/people/{person_id}/second-factor/reset")
async def confirm_reset(request: Request, visitor: Admin, person_id: str) -> Response:
    """What a reset does, with the form that does it: nothing changes on this page."""
    found = await _person(engine_of(request), visitor, person_id)
    return page(request, visitor, "person_reset.html", person=found, problem=None)


@router.post("/people/{person_id}/second-factor/reset")
async def reset_second_factor(
    request: Request, visitor: Admin, person_id: str, reason: Reason = ""
) -> Response:
    """A reset, with the reason the page requires: a blank one is refused beside the field
    (the service's ``reason.required``), the form kept. A second post is refused by the
    service (the account is invited again by then), so nothing is reset twice."""
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        link = await engine.access.reset_second_factor(
            visitor.signed_in,
            found.email,
            reason=reason,
            reason_required=True,
            source=source_of(request),
        )
    except BadAccessInput as exc:
        if exc.field != "reason":
            raise refusal(exc) from None
        problem, status = _problem_of(exc, "reset", reason)
        return page(
            request, visitor, "person_reset.html", status=status, person=found, problem=problem
        )
    except (AccessDenied, MailFailed) as exc:
        raise refusal(exc) from None
    return show_once(page(request, visitor, "people_link.html", link=link, reset=True))
