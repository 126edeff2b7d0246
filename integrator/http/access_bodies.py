"""Request bodies of the people and token routes, with the maxima the OpenAPI document shows.

The maxima are the service's own (``integrator.access.limits``: an address is at most 121
characters, a name 200, a token is valid at most 730 days), so a body that passes here fails
only on rules that need the store (an address that has an account, a grant outside the
caller's clusters). Unknown keys are refused, as everywhere in the API.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from integrator.access.limits import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REASON,
    MAX_TOKEN_DAYS,
    MAX_TOKEN_NAME_LENGTH,
)
from integrator.access.permissions import Grant, Role

MAX_GRANTS: Final = 100

Cluster = Annotated[
    str,
    StringConstraints(max_length=100),
    Field(
        description=(
            "a cluster of destinations, by its exact name: one given to a grant must not be "
            "blank nor begin or end with white space (422 'cluster: …')"
        )
    ),
]
"""Taken as sent, not stripped: the access service refuses a blank or padded name being given
(in the same words for the API, the CLI and the console), and a grant stored with one before
that rule is taken away by naming it as stored."""
Reason = Annotated[
    str | None,
    Field(max_length=MAX_REASON, description="why (goes into the audit trail)"),
]
NeededReason = Annotated[
    str | None,
    Field(
        max_length=MAX_REASON,
        description=(
            "why (goes into the audit trail); required: a change of someone's access without "
            "one, or with a blank one, is refused (422 'reason: a reason is required')"
        ),
    ),
]
"""Left optional in the types so that the access service, not the body's parser, refuses a
missing reason, in the same words for the API, the CLI and the console; the bodies that hold
one say it is required in their JSON schema (``_NEEDS_REASON``), as a client must send it."""

_NEEDS_REASON: Final = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GrantBody(_Body):
    """A role for one cluster, or for all clusters when ``cluster`` is null or left out."""

    role: Role
    cluster: Cluster | None = None

    def grant(self) -> Grant:
        return Grant(self.role, self.cluster)


Grants = Annotated[
    list[GrantBody],
    Field(min_length=1, max_length=MAX_GRANTS, description="at least one grant"),
]


def grants_of(bodies: list[GrantBody]) -> list[Grant]:
    return [body.grant() for body in bodies]


class InviteBody(_Body):
    email: Annotated[
        str, Field(min_length=3, max_length=MAX_EMAIL_LENGTH, description="their address")
    ]
    name: Annotated[
        str | None,
        Field(max_length=MAX_NAME_LENGTH, description="default: the part of the address before @"),
    ] = None
    grants: Grants
    reason: Reason = None


class GrantsBody(_Body):
    """The person's grants inside the caller's clusters (those elsewhere are kept)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["grants", "reason"]})

    grants: Grants
    reason: NeededReason = None


class ReasonBody(_Body):
    reason: Reason = None


class DeactivateBody(_Body):
    model_config = _NEEDS_REASON

    reason: NeededReason = None


class RoleDeactivateBody(_Body):
    model_config = _NEEDS_REASON

    cluster: Annotated[
        Cluster | None, Field(description="the cluster of the grant; null: the all-clusters grant")
    ] = None
    reason: NeededReason = None


class TokenBody(_Body):
    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_TOKEN_NAME_LENGTH,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            description="unique, also after it is revoked: the audit trail records token:<name>",
        ),
    ]
    grants: Grants
    expires_in_days: Annotated[
        int,
        Field(
            strict=True,  # JSON's number: true is no one day
            ge=1,
            le=MAX_TOKEN_DAYS,
            description=(
                "valid for this many days (default 90); a token made with a token expires no "
                "later than that token: more is refused, and the default is cut to it"
            ),
        ),
    ] = 90
    reason: Reason = None
