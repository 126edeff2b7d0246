"""Typed answers of the API, for the OpenAPI document: a generated client gets typed fields.

Each model is exactly what its route answers (``AccessService``'s views' ``to_json``, the
audit trail's ``audit.audit_entry_view``), keys and all: ``extra="forbid"`` makes the document
say no other key comes, and a test validates the routes' real answers against the document, so
a key added to an answer and not here fails it. The routes still answer their dicts; these only
describe them. The listings (``listing``) declare their items so too: a JSON array of untyped
objects told a client nothing of what a message, an event or rejected input holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrator.http.openapi import REF_ROOT, model_answer


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
    kind: Literal["machine", "own"] = Field(
        description="`machine`: a machine's token, which goes on working when the person who "
        "made it is deactivated; `own`: a person's own token, which stops with their account"
    )
    maker_token: str | None = Field(description="the token that made it, if one did")
    maker_person: str | None = Field(description="the person who made it, in the console")
    created_by: str = Field(
        description="who made it, as the audit trail names them: `person:<email>`, "
        "`token:<name>` (the token that made it) or `local:<user>` (the server's CLI)"
    )
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
    kind: Literal["machine", "own"] = Field(
        description="`machine`: goes on working when the person who made it is deactivated; "
        "`own`: the person's own token, which stops with their account"
    )
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
    prev_hash: str = Field(
        description="the hash of the entry before it (64 zeros for the first; after a prune, "
        "the anchor's): with it, `hash` can be recomputed from this entry alone (docs/access.md)"
    )


AUDIT_ENTRY: Final = model_answer(AuditEntry)


class MessageListed(_Answer):
    """A message as the listings show it (``presenters.message_summary``): identifiers and
    delivery facts, no patient data."""

    id: str
    event_id: str
    event_type: str = Field(description="`referral` or `diagnostic_request`")
    zd_number: str
    destination: str = Field(description="the destination's id")
    version: str = Field(description="the message version it was made in")
    message_type: str = Field(description="the HL7 message type (`REF^I12^REF_I12`)")
    control_id: str = Field(description="MSH-10")
    status: str = Field(description="queued, sending, retrying, delivered, deadletter, …")
    dead_letter_state: Literal["open", "resending", "resolved"] | None = Field(
        description="where a dead letter stands; null unless its status is `deadletter`"
    )
    attempts: int = Field(ge=0)
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="why the last attempt failed, in short")
    warnings: list[str]
    test: bool = Field(description="a test message (`destinations test`), not an event's")
    resend_of: str | None = Field(description="the message this one resends")
    pruned_at: datetime | None = Field(description="when retention emptied its HL7 and ACKs")


class EventListed(_Answer):
    """An event as the listings show it (``events_routing.listed_event_view``): no patient
    data, with how many messages were made of it."""

    id: str
    type: str = Field(description="`referral` or `diagnostic_request`")
    action: str
    zd_number: str
    provider_id: str
    received_at: datetime
    source: str = Field(description="how it came in: `http`, `amqp`, `cli`, …")
    messages: int = Field(ge=0, description="how many messages were made of it")
    unrouted: bool = Field(
        description="waiting to be routed: no destination served its provider (no message), "
        "and its content not pruned (INTEGRATOR_RETAIN_UNROUTED_DAYS)"
    )
    caller: str | None = Field(
        description="who sent it, as the front door established it: `token:NAME`, "
        "`local:USER`, `amqp` or `demo`; null for events accepted before callers were kept"
    )
    pruned_at: datetime | None = Field(
        description="when retention emptied its content (INTEGRATOR_RETAIN_*); null while it "
        "is kept. With `messages` 0: a referral no destination got, which only upstream can "
        "send again (`never_routed=true` lists these)"
    )


class RejectedRule(_Answer):
    path: str = Field(description="the field, like `questions[0].answer`; `$`: the whole input")
    rule: str = Field(description="the rule's code")
    message: str = Field(description="the rule's sentence, in English")


class RejectedListed(_Answer):
    """Rejected input as the listings show it (``rejected_reads.rejected_summary``): never a
    byte of the body."""

    id: str
    received_at: datetime
    source: str
    caller: str | None = Field(description="who sent it, as the front door established it")
    zd_number: str | None
    provider_id: str | None
    bytes: int = Field(ge=0, description="its size as it arrived")
    problems: list[str] = Field(description="each broken rule as `path: rule`")
    reason: list[RejectedRule] = Field(
        description="each broken rule with its `message`, as `GET /api/v1/rejected/{id}` "
        "gives it (never a value from the input)"
    )


MESSAGE_LISTED: Final = model_answer(MessageListed)
EVENT_LISTED: Final = model_answer(EventListed)
REJECTED_LISTED: Final = model_answer(RejectedListed)


def listing(
    component: str, description: str, *also: dict[int | str, dict[str, Any]]
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a listing: a 200 of a JSON array whose items are ``component`` (a name
    ``model_answer`` gave), with the headers each of ``also`` gives its 200 (``Link``,
    ``X-Total-Count``). The route says ``response_model=None``: its return annotation would
    otherwise be taken for the answer's schema, untyped."""
    headers: dict[str, Any] = {}
    for more in also:
        headers.update(more.get(200, {}).get("headers", {}))
    schema = {"type": "array", "items": {"$ref": REF_ROOT + component}}
    ok: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        ok["headers"] = headers
    return {200: ok}
