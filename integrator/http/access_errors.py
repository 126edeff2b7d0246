"""The access service's refusals as HTTP answers, each naming the body field and the rule.

- ``AccessDenied``: 403 with the service's reason (which grant, which clusters);
- ``UnknownAccount``: 404, the same words for a person or token outside the caller's clusters
  as for one that does not exist, so an answer never tells that it exists;
- ``AccountConflict``: 409 (the address has an account, the token name is taken);
- ``BadAccessInput``: 422, ``<field>: <rule>`` with the field as the body names it;
- ``MailFailed``: 502, the invitation could not be sent (the mail server is the bad gateway);
- ``AccessRefusals`` (several of the above for one request): each said, ``; `` between them,
  as each alone would be; 403 when one is about who asks, else 422.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final, TypeVar

from fastapi import HTTPException

from integrator.access.errors import (
    AccessDenied,
    AccessRefusals,
    AccountConflict,
    BadAccessInput,
    UnknownAccount,
)
from integrator.access.mail import MailFailed

T = TypeVar("T")

API_NAMES: Final[dict[str, str]] = {
    "token_name": "name",
    "expires": "expires_in_days",
}
"""Where the body names an input otherwise than the service does."""

NO_PERSON: Final = "no person with that id"
NO_TOKEN: Final = "no token with that id"  # noqa: S105 (a message, not a secret)


def refusal(exc: Exception) -> HTTPException:
    """The answer for one of the access service's errors."""
    if isinstance(exc, AccessDenied):
        return HTTPException(status_code=403, detail=str(exc))
    if isinstance(exc, UnknownAccount):
        detail = NO_TOKEN if exc.field == "token_id" else NO_PERSON
        return HTTPException(status_code=404, detail=detail)
    if isinstance(exc, MailFailed):
        return HTTPException(status_code=502, detail=str(exc))
    if isinstance(exc, AccessRefusals):
        details = [str(refusal(problem).detail) for problem in exc.problems]
        return HTTPException(status_code=403 if exc.denied else 422, detail="; ".join(details))
    assert isinstance(exc, BadAccessInput)
    status = 409 if isinstance(exc, AccountConflict) else 422
    if exc.field is None:
        return HTTPException(status_code=status, detail=exc.rule)
    field = API_NAMES.get(exc.field, exc.field)
    return HTTPException(status_code=status, detail=f"{field}: {exc.rule}")


async def answered(call: Awaitable[T]) -> T:
    """``await call``, with the service's refusals turned into their HTTP answers."""
    try:
        return await call
    except (AccessDenied, BadAccessInput, MailFailed) as exc:
        raise refusal(exc) from None
