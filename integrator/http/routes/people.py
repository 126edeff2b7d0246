"""``/api/v1/people``: inviting people, their grants, taking them away, resetting a second
factor (docs/access.md).

The rules are ``AccessService``'s, as for ``integrator users``: an admin sees and acts only
within the clusters of their ``people.manage`` grants. A person is named in the path by their
id (from the listing or the invitation's answer), not their e-mail address: addresses stay out
of URLs, access logs and browser histories. One outside the caller's clusters answers 404, like
an id nobody has; one the caller can see but not act on wholly (an account with roles in other
clusters) answers 403. Every change is audited as the caller, with the client's address as
``source``.

An invitation is sent by e-mail when the engine has a mail server (``INTEGRATOR_SMTP_HOST``):
the answer then says it was sent and never holds the link. Without one, the link is in the
answer, for the admin to pass on.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Response

from integrator.access.permissions import Role
from integrator.access.service import PersonView
from integrator.http.access_bodies import (
    DeactivateBody,
    GrantsBody,
    InviteBody,
    ReasonBody,
    RoleDeactivateBody,
    grants_of,
)
from integrator.http.access_errors import NO_PERSON, answered
from integrator.http.auth import IdentityDep
from integrator.http.deps import (
    TOTAL,
    EngineDep,
    ListLimit,
    ListOffset,
    SourceDep,
    id_in_path,
    total_header,
    uuid_path,
)
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import answer

router = APIRouter(prefix="/api/v1", tags=["people"], route_class=JsonBodyRoute)


async def _visible(
    engine: EngineDep,
    identity: IdentityDep,
    person_id: Annotated[str, uuid_path("person")],
) -> PersonView:
    """The path's person, as the caller may see them; 404 for one outside their clusters, and
    for text that is no id."""
    missing = HTTPException(status_code=404, detail=NO_PERSON)
    return await answered(engine.access.person(identity, id_in_path(person_id, missing)))


Person = Annotated[PersonView, Depends(_visible)]


@router.get("/people", responses=total_header("How many people the caller sees in all"))
async def list_people(
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    limit: ListLimit = 100,
    offset: ListOffset = 0,
) -> list[dict[str, Any]]:
    """People with a grant in the caller's clusters, each with only the grants there, by
    e-mail address: at most ``limit`` from ``offset`` on; ``X-Total-Count`` says how many
    there are in all."""
    page = await answered(engine.access.people_page(identity, limit=limit, offset=offset))
    response.headers[TOTAL] = str(page.total)
    return [view.to_json() for view in page.items]


@router.get("/people/{person_id}")
async def get_person(person: Person) -> dict[str, Any]:
    return person.to_json()


MAIL_FAILED: Final[dict[int | str, dict[str, Any]]] = {
    502: answer("The invitation's mail could not be sent; the person stays invited")
}
"""``responses`` of the routes that mail a link (``access.MailFailed``)."""


@router.post(
    "/people",
    status_code=201,
    responses={
        409: answer("The address has an account already, or belongs to a deactivated one"),
        **MAIL_FAILED,
    },
)
async def invite(
    body: InviteBody, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """Invite a colleague: the link is e-mailed (``sent``), or is in the answer (``link``)."""
    link = await answered(
        engine.access.invite(
            identity,
            body.email,
            grants_of(body.grants),
            name=body.name,
            reason=body.reason,
            source=source,
        )
    )
    return link.to_json()


@router.post("/people/{person_id}/invitation", status_code=201, responses=MAIL_FAILED)
async def reinvite(
    person: Person, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """A new link for someone who has not accepted yet; earlier links stop working."""
    link = await answered(engine.access.reinvite(identity, person.email, source=source))
    return link.to_json()


@router.post("/people/{person_id}/second-factor/reset", status_code=201, responses=MAIL_FAILED)
async def reset_second_factor(
    person: Person,
    engine: EngineDep,
    identity: IdentityDep,
    source: SourceDep,
    body: ReasonBody | None = None,
) -> dict[str, Any]:
    """Reset an active person's second factor (a lost phone): their authenticator, recovery
    codes, password and console sessions stop at once; their grants and own tokens stay. The
    answer is a new setup link, as an invitation's (201): e-mailed (``sent``), or in the answer
    (``link``). Not for someone invited (send the invitation again) or deactivated (422)."""
    reason = body.reason if body else None
    link = await answered(
        engine.access.reset_second_factor(identity, person.email, reason=reason, source=source)
    )
    return link.to_json()


@router.put("/people/{person_id}/grants")
async def set_grants(
    person: Person, body: GrantsBody, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """Replace the person's grants inside the caller's clusters; those elsewhere stay.
    ``tokens_suspended`` names the tokens the person made that lose grants with it (``id``,
    ``name``, ``suspended``): a role that reads patient data is in force on a token made in
    the console or through the API only where its maker holds it."""
    view = await answered(
        engine.access.set_grants(
            identity, person.email, grants_of(body.grants), reason=body.reason, source=source
        )
    )
    return view.to_json()


REQUIRED_BODY: Final[dict[str, Any]] = {"requestBody": {"required": True}}
"""A body the route needs (its reason), though it parses one left out, so that the service
refuses that in its own words (``access_bodies.NeededReason``)."""


@router.post("/people/{person_id}/deactivate", openapi_extra=REQUIRED_BODY)
async def deactivate_person(
    person: Person,
    engine: EngineDep,
    identity: IdentityDep,
    source: SourceDep,
    body: DeactivateBody | None = None,
) -> dict[str, Any]:
    """Deactivate the whole account: its sessions, open links and own tokens stop at once. The
    machines' tokens the person made go on working; ``machine_tokens`` lists them (id, name,
    grants, which of them are suspended, expiry), to revoke those that should not. A
    deactivated person holds nothing, so those tokens lose the roles that read patient data:
    ``tokens_suspended`` names them (``id``, ``name``, ``suspended``)."""
    reason = body.reason if body else None
    done = await answered(
        engine.access.deactivate_person(identity, person.email, reason=reason, source=source)
    )
    shown = (await answered(engine.access.person(identity, person.id))).to_json()
    kept = done.to_json()
    return {
        **shown,
        "machine_tokens": kept["machine_tokens"],
        "tokens_suspended": kept["tokens_suspended"],
    }


@router.post("/people/{person_id}/roles/{role}/deactivate", openapi_extra=REQUIRED_BODY)
async def deactivate_role(
    person: Person,
    role: Role,
    engine: EngineDep,
    identity: IdentityDep,
    source: SourceDep,
    body: RoleDeactivateBody | None = None,
) -> dict[str, Any]:
    """Take away one grant: ``role`` for ``cluster`` (null or left out: for all clusters).
    ``tokens_suspended`` names the tokens the person made that lose it with them."""
    cluster = body.cluster if body else None
    reason = body.reason if body else None
    view = await answered(
        engine.access.deactivate_role(
            identity, person.email, role, cluster, reason=reason, source=source
        )
    )
    return view.to_json()
