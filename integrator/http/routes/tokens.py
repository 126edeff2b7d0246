"""``/api/v1/tokens``: API tokens for upstream systems, monitoring and scripts (docs/access.md).

Like ``integrator tokens``, with the service's rules: a caller with ``tokens.manage`` in the
clusters of every grant makes a machine's token, which stands on its own until it expires or is
revoked (a role that reads patient data stays in force only while its maker holds it); the
listing holds the tokens whose grants lie in the caller's clusters; one outside them is a 404,
like an id nobody has. The token itself is in the answer of its creation, once, and never again.

A token cannot make a token of its own here: every route needs ``tokens.manage``. The tokens a
token makes depend on it (the service records the maker): they expire no later and stop when it
stops, so a leaked token cannot mint successors that live on after it is revoked; and they hold
a role that reads patient data only where the making token holds it. People make tokens of their
own (a subset of their own grants) when signed in with a second factor, in the console.

Why a token is revoked goes in the ``X-Integrator-Reason`` header, as for removing a
destination (a DELETE has no body).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response

from integrator.http.access_bodies import TokenBody, grants_of
from integrator.http.access_errors import NO_TOKEN, answered
from integrator.http.answers import TOKEN_LISTED, TOKEN_MADE, TOKEN_REVOKED
from integrator.http.auth import IdentityDep
from integrator.http.deps import (
    TOTAL,
    EngineDep,
    ListLimit,
    ListOffset,
    ReasonDep,
    SourceDep,
    id_in_path,
    total_header,
    uuid_path,
)
from integrator.http.json_body import JsonBodyRoute
from integrator.http.openapi import REF_ROOT, answer

router = APIRouter(prefix="/api/v1", tags=["tokens"], route_class=JsonBodyRoute)


@router.get(
    "/tokens",
    response_model=None,
    responses={
        200: {
            "description": "The tokens, newest first",
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": REF_ROOT + TOKEN_LISTED}}
                }
            },
            **total_header("How many tokens the caller may manage in all")[200],
        }
    },
)
async def list_tokens(
    engine: EngineDep,
    identity: IdentityDep,
    response: Response,
    limit: ListLimit = 100,
    offset: ListOffset = 0,
) -> list[dict[str, Any]]:
    """The tokens the caller may manage, newest first (then by name): the visible prefix,
    never the token; at most ``limit`` from ``offset`` on, and ``X-Total-Count`` says how many
    there are in all. ``grants`` are what a token holds, ``grants_in_force`` what it acts with
    now; each of ``suspended`` says why it is not (its maker no longer holds that role that
    reads patient data, or its owner no longer holds the grant)."""
    page = await answered(engine.access.tokens_page(identity, limit=limit, offset=offset))
    response.headers[TOTAL] = str(page.total)
    return [view.to_json() for view in page.items]


@router.post(
    "/tokens",
    status_code=201,
    response_model=None,
    responses={
        201: answer("The new token, shown this once", TOKEN_MADE),
        409: answer("A token of that name exists already"),
    },
)
async def create_token(
    body: TokenBody, engine: EngineDep, identity: IdentityDep, source: SourceDep
) -> dict[str, Any]:
    """A new token; ``token`` in the answer is shown this once (only its hash is kept)."""
    made = await answered(
        engine.access.create_token(
            identity,
            body.name,
            grants_of(body.grants),
            # Left out: the service's default, which it cuts to a making token's expiry.
            expires_in=(
                timedelta(days=body.expires_in_days)
                if "expires_in_days" in body.model_fields_set
                else None
            ),
            reason=body.reason,
            source=source,
        )
    )
    return made.to_json()


@router.delete(
    "/tokens/{token_id}",
    response_model=None,
    responses={200: answer("The token, revoked, and those that stopped with it", TOKEN_REVOKED)},
)
async def revoke_token(
    token_id: Annotated[str, uuid_path("token")],
    engine: EngineDep,
    identity: IdentityDep,
    source: SourceDep,
    reason: ReasonDep,
) -> dict[str, Any]:
    """Revoke a token: it stops working at once, and so do the tokens it made (their number is
    ``dependent_tokens``, and ``stopped`` names them). Idempotent: revoking a token revoked
    already answers the same way (200, the token as it is now), does nothing and audits
    nothing, so a client whose request timed out may simply repeat it."""
    token = id_in_path(token_id, HTTPException(status_code=404, detail=NO_TOKEN))
    revoked = await answered(
        engine.access.revoke_token(
            identity, token, reason=reason, source=source, again_answers=True
        )
    )
    return revoked.to_json()
