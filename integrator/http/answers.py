"""Typed answers of the API, for the OpenAPI document: a generated client gets typed fields.

Each model is exactly what its route answers (``AccessService``'s views' ``to_json``, the
audit trail's ``audit.audit_entry_view``), keys and all: ``extra="forbid"`` makes the document
say no other key comes, and a test validates the routes' real answers against the document, so
a key added to an answer and not here fails it. The routes still answer their dicts; these only
describe them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrator.http.openapi import model_answer


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GrantHeld(_Answer):
    role: str = Field(description="a role (`integrator roles`)")
    cluster: str | None = Field(description="a cluster of destinations; null: all clusters")


class GrantSuspended(GrantHeld):
    reason: str = Field(description="why it is not in force now")


class TokenListed(_Answer):
    """An API token as listed: never the token itself, only its visible prefix."""

    id: str
    name: str
    prefix: str
    status: str = Field(description="active, expired, revoked, or stopped (its maker's stopped)")
    owner: str | None = Field(description="the person whose own token it is; null: a machine's")
    maker_token: str | None = Field(description="the token that made it, if one did")
    maker_person: str | None = Field(description="the person who made it, in the console")
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    grants: list[GrantHeld] = Field(description="what it holds, as made")
    grants_in_force: list[GrantHeld] = Field(description="what it acts with now")
    suspended: list[GrantSuspended] = Field(description="held grants not in force, with why")


class TokenStopped(_Answer):
    id: str
    name: str


class TokenRevoked(TokenListed):
    """A token just revoked, and the tokens it made that stopped with it."""

    dependent_tokens: int = Field(ge=0)
    stopped: list[TokenStopped]


class TokenMade(_Answer):
    """A token just made: ``token`` is shown this once (only its hash is kept)."""

    id: str
    name: str
    token: str
    prefix: str
    expires_at: datetime
    owner: str | None
    maker_token: str | None
    grants: list[str] = Field(description="each grant as `role@cluster` (`*`: all clusters)")


TOKEN_LISTED: Final = model_answer(TokenListed)
TOKEN_REVOKED: Final = model_answer(TokenRevoked)
TOKEN_MADE: Final = model_answer(TokenMade)


class AuditOriginAnswer(_Answer):
    """From where an entry's action came (``audit.audit_origin``, as the console shows it)."""

    kind: Literal["address", "command_line", "token", "engine", "unknown"] = Field(
        description="`address`: the client's address was recorded (`name`); `command_line`: "
        "the CLI on the server (`local:<user>`, no address); `token`: an API token, when no "
        "address was recorded (`name`: its name); `engine`: the engine's own work (`system`, "
        "`file`, `engine:<job>`); `unknown`: nothing recorded says (an entry from before)"
    )
    name: str | None = Field(
        description="the address (`address`) or the token's name (`token`); null otherwise"
    )


class AuditEntry(_Answer):
    """An audit trail entry: what was recorded, and where it came from (``origin``)."""

    id: int
    at: datetime
    actor: str = Field(description="`person:<email>`, `token:<name>`, `local:<user>`, …")
    action: str
    target: str
    reason: str | None
    details: dict[str, Any] = Field(description="as recorded (`source`: the client's address)")
    hash: str = Field(description="the entry's link in the hash chain")
    origin: AuditOriginAnswer


AUDIT_ENTRY: Final = model_answer(AuditEntry)
