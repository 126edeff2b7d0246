"""People (admin): the list with grants, inviting, changing grants per cluster, deactivating a
role or the account, sending an invitation again, resetting a second factor (a lost phone:
the person page's button leads to a page that says what will happen, and only its form acts).

Every rule is ``AccessService``'s (who may give which grant in which cluster, what an
invitation needs); each action below is one call to it, made as the signed-in admin, so the
audit trail records ``person:<email>``. Refusals are shown with the service's message.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import AccessDenied, BadAccessInput
from integrator.access.mail import MailFailed
from integrator.access.permissions import Permission, Role
from integrator.access.service import PersonView
from integrator.console.errors import NotFound
from integrator.console.grants_form import GRANT_ROWS, Refusal, grants_of, refusal
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import Visitor, needs
from integrator.engine import Engine
from integrator.http.deps import source_of

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/people", "nav.people", P.PEOPLE_MANAGE)]
Admin = Annotated[Visitor, Depends(needs(P.PEOPLE_MANAGE))]
Text = Annotated[str, Form(max_length=320)]
Reason = Annotated[str, Form(max_length=1000)]
Roles = Annotated[list[str], Form(max_length=GRANT_ROWS)]
Clusters = Annotated[list[str], Form(max_length=GRANT_ROWS)]


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
    listed = await _people(engine_of(request), visitor)
    return page(request, visitor, "people.html", people=listed, roles=list(Role), rows=GRANT_ROWS)


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
    try:
        link = await engine.access.invite(
            visitor.signed_in,
            email,
            grants_of(role, cluster),
            name=name.strip() or None,
            source=source_of(request),
        )
    except (AccessDenied, BadAccessInput, Refusal, MailFailed) as exc:
        raise refusal(exc) from None
    return page(request, visitor, "people_link.html", link=link)


@router.get("/people/{person_id}")
async def person(request: Request, visitor: Admin, person_id: str) -> Response:
    found = await _person(engine_of(request), visitor, person_id)
    return page(request, visitor, "person.html", person=found, roles=list(Role), rows=GRANT_ROWS)


@router.post("/people/{person_id}/grants")
async def set_grants(
    request: Request,
    visitor: Admin,
    person_id: str,
    reason: Reason = "",
    role: Roles = [],  # noqa: B006
    cluster: Clusters = [],  # noqa: B006
) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        await engine.access.set_grants(
            visitor.signed_in, found.email, grants_of(role, cluster), reason=reason.strip() or None
        )
    except (AccessDenied, BadAccessInput, Refusal) as exc:
        raise refusal(exc) from None
    return RedirectResponse(f"/people/{person_id}", status_code=303)


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
            visitor.signed_in, found.email, grant.role, grant.cluster, reason=reason.strip() or None
        )
    except (AccessDenied, BadAccessInput, Refusal) as exc:
        raise refusal(exc) from None
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/deactivate")
async def deactivate(request: Request, visitor: Admin, person_id: str, reason: Reason) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        await engine.access.deactivate_person(
            visitor.signed_in, found.email, reason=reason.strip() or None
        )
    except (AccessDenied, BadAccessInput) as exc:
        raise refusal(exc) from None
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/reinvite")
async def reinvite(request: Request, visitor: Admin, person_id: str) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        link = await engine.access.reinvite(
            visitor.signed_in, found.email, source=source_of(request)
        )
    except (AccessDenied, BadAccessInput, MailFailed) as exc:
        raise refusal(exc) from None
    return page(request, visitor, "people_link.html", link=link)


@router.get("/people/{person_id}/second-factor/reset")
async def confirm_reset(request: Request, visitor: Admin, person_id: str) -> Response:
    """What a reset does, with the form that does it: nothing changes on this page."""
    found = await _person(engine_of(request), visitor, person_id)
    return page(request, visitor, "person_reset.html", person=found)


@router.post("/people/{person_id}/second-factor/reset")
async def reset_second_factor(
    request: Request, visitor: Admin, person_id: str, reason: Reason
) -> Response:
    engine = engine_of(request)
    found = await _person(engine, visitor, person_id)
    try:
        link = await engine.access.reset_second_factor(
            visitor.signed_in, found.email, reason=reason.strip() or None, source=source_of(request)
        )
    except (AccessDenied, BadAccessInput, MailFailed) as exc:
        raise refusal(exc) from None
    return page(request, visitor, "people_link.html", link=link, reset=True)
