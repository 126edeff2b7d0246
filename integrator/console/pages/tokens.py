"""API tokens: list, create (the token is shown this once), revoke.

Every signed-in person may use the page: an admin (``tokens.manage``) makes machines' tokens
and sees the tokens of their clusters; anybody else makes and revokes tokens *of their own*,
holding no more than their own grants, which they need for the CLI's commands that go through
the running engine (``INTEGRATOR_TOKEN``; docs/access.md "Who may make one"). Each action is
one ``AccessService`` call made as the signed-in person, which decides whose token it is and
which grants it may carry, and audits it under ``person:<email>``: the page holds no rule.
A refused token comes back as the form with what was typed and the refusal beside its field
(``access_form``); nothing typed into it is a secret, the token being made by the service.

The creation form acts once (``once``): posted twice (a double click), the second post made
a second attempt that was refused ("name exists already"), and the browser showed that
refusal in place of the first post's answer, the only page that ever held the new secret. Now
the second post makes nothing and lands on a page that says the first made the token, that its
secret cannot be shown again (it is stored nowhere, the confirmation keeps only the token's id
and name), and offers to revoke it so that another can be made.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from integrator.access.errors import AccessDenied, BadAccessInput
from integrator.access.limits import MAX_TOKEN_NAME_LENGTH
from integrator.access.permissions import Permission
from integrator.access.service import NewToken
from integrator.console.access_form import AccessForm, typed_grants
from integrator.console.answers import show_once
from integrator.console.errors import BadInput, NotFound
from integrator.console.grants_form import GRANT_ROWS, Refusal, grants_of, offered, refusal
from integrator.console.once import FIELD, confirmation, failed, issue, once
from integrator.console.render import NavItem, page
from integrator.console.session import engine_of
from integrator.console.visitor import PersonDep, Visitor
from integrator.http.deps import source_of
from integrator.reasons import MAX_REASON

P = Permission
router = APIRouter()
NAV: Final = [NavItem("/tokens", "nav.tokens", None)]
Person = PersonDep  # who may do what with which token is the service's decision
Reason = Annotated[str, Form(max_length=MAX_REASON)]
Once = Annotated[str, Form(alias=FIELD, max_length=100)]
ACTION: Final = "tokens.create"
"""What the creation form's one-time token confirms."""


class _Refused(BadInput):
    """The service refused before anything was made: the one-time token is released (the
    same form may be posted again once right) and the form shows ``cause`` as before."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


@router.get("/tokens")
async def tokens(request: Request, visitor: Person) -> Response:
    return await _tokens_page(request, visitor, AccessForm({}))


async def _tokens_page(
    request: Request, visitor: Visitor, form: AccessForm, *, status: int = 200
) -> Response:
    """The list and the creation form, filled with ``form`` (what was typed, and why it was
    refused)."""
    engine = engine_of(request)
    try:
        listed = await engine.access.list_tokens(visitor.signed_in)
    except (AccessDenied, BadAccessInput) as exc:
        raise refusal(exc) from None
    manages = visitor.may_somewhere(P.TOKENS_MANAGE)
    return page(
        request,
        visitor,
        "tokens.html",
        status=status,
        tokens=listed,
        # Only what this person may put on a token, and why not the rest: the service's answer
        # (a one-cluster person's own cluster filled in).
        offered=await offered(engine.access, visitor.signed_in, to="token"),
        rows=GRANT_ROWS,
        own_only=not manages,
        form=form,
        default_days=engine.access.default_token_validity.days,
        once=await issue(engine, visitor, ACTION),
    )


@router.post("/tokens")
async def create(
    request: Request,
    visitor: Person,
    name: Annotated[str, Form(max_length=MAX_TOKEN_NAME_LENGTH)],
    days: Annotated[str, Form(max_length=8)] = "",
    reason: Reason = "",
    role: Annotated[list[str], Form(max_length=GRANT_ROWS)] = [],  # noqa: B006
    cluster: Annotated[list[str], Form(max_length=GRANT_ROWS)] = [],  # noqa: B006
    once_token: Once = "",
) -> Response:
    engine = engine_of(request)
    typed = {"name": name.strip(), "days": days.strip(), "reason": reason}
    form = AccessForm(typed, typed_grants(role, cluster))
    preset = (await offered(engine.access, visitor.signed_in, to="token")).preset
    if days.strip() and not re.fullmatch(r"[0-9]+", days.strip()):  # "²" is a digit to isdigit
        # Said with whatever else the service refuses of the form, and nothing made.
        unreadable = BadAccessInput("a whole number of days", field="expires")
        try:
            await engine.access.check_token(
                visitor.signed_in,
                name.strip(),
                grants_of(role, cluster, preset=preset),
                reason=reason.strip() or None,
                known=[unreadable.coded("console.days_whole")],
            )
        except (AccessDenied, BadAccessInput, Refusal) as exc:
            form.refuse(exc)
        return await _tokens_page(request, visitor, form, status=form.status)
    made: list[NewToken] = []

    async def work() -> dict[str, Any]:
        try:
            token = await engine.access.create_token(
                visitor.signed_in,
                name.strip(),
                grants_of(role, cluster, preset=preset),
                expires_in=timedelta(days=int(days)) if days.strip() else None,
                reason=reason.strip() or None,
                source=source_of(request),
            )
        except (AccessDenied, BadAccessInput, Refusal) as exc:
            raise _Refused(exc) from None
        made.append(token)
        # What a second post of the form is shown: never the token's secret.
        return {"id": token.id, "name": token.name}

    try:
        if once_token:
            done = await once(engine, visitor, ACTION, once_token, work)
            if done.repeated:
                return RedirectResponse(f"/tokens/made/{done.id}", status_code=303)
        else:  # a form without one (an older page still open): made as before
            await work()
    except _Refused as refused:
        form.refuse(refused.cause)
        return await _tokens_page(request, visitor, form, status=form.status)
    # Shown once after the redirect (``answers``): a reload shows the list, makes no token.
    return show_once(page(request, visitor, "token_created.html", token=made[0]))


@router.get("/tokens/made/{confirmation_id}")
async def made_already(request: Request, visitor: Person, confirmation_id: str) -> Response:
    """A creation form posted again (a double click): the first post made the token, whose
    secret was shown only in answer to that post, which the browser left for this one. The
    secret is kept nowhere, so it cannot be shown; the token can be revoked here, and another
    made, whose secret is shown."""
    engine = engine_of(request)
    row = await confirmation(engine, visitor, confirmation_id)
    if row is None or row.action != ACTION:
        raise NotFound()
    result = row.result if isinstance(row.result, dict) else {}
    listed = await engine.access.list_tokens(visitor.signed_in)
    token = next((t for t in listed if t.id == result.get("id")), None)
    return page(
        request,
        visitor,
        "token_made_already.html",
        done=row,
        failed=failed(row),
        name=result.get("name"),
        token=token,
    )


@router.post("/tokens/{token_id}/revoke")
async def revoke(request: Request, visitor: Person, token_id: str, reason: Reason) -> Response:
    engine = engine_of(request)
    try:
        # A second post (a double click, a second tab) leads to the list as the first did,
        # where the token shows as revoked; nothing is done or audited again.
        await engine.access.revoke_token(
            visitor.signed_in,
            token_id,
            reason=reason.strip() or None,
            source=source_of(request),
            again_answers=True,
        )
    except (AccessDenied, BadAccessInput) as exc:
        raise refusal(exc) from None
    return RedirectResponse("/tokens", status_code=303)
