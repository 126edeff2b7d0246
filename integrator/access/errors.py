"""Why an access operation was refused, sorted by what the caller must do.

::

    IntegratorError
    ├── AccessDenied          the identity may not do this (HTTP 403)
    ├── LoginRefused          wrong e-mail, password or code, or locked (HTTP 401)
    └── PermanentError
        └── BadAccessInput    fix the input: the message names the option and the rule (exit 2)
            ├── InvitationInvalid   the link is unknown, used, replaced or expired
            ├── UnknownAccount      no person or token matches (HTTP 404)
            ├── AmbiguousToken      several tokens' ids start so; lists them to pick from
            └── AccountConflict     the address or token name is taken (HTTP 409)

A refusal of one input keeps ``field`` and ``rule`` apart, so each front door names the input
its own way: the text (what the CLI prints) says ``--role: …``, the HTTP API ``grants: …``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from integrator.errors import IntegratorError, PermanentError

if TYPE_CHECKING:
    from integrator.access.service import TokenView


class AccessDenied(IntegratorError):
    """The identity lacks the permission, or the cluster is outside its grants."""


class LoginRefused(IntegratorError):
    """One answer for every failed login, so it does not tell which part was wrong."""

    def __init__(self) -> None:
        super().__init__(
            "login refused: the e-mail address, password or code is wrong, or the account is "
            "locked for a while after too many failures"
        )


CLI_NAMES: Final[dict[str, str]] = {
    "email": "EMAIL",
    "name": "--name",
    "grants": "--role",
    "cluster": "--cluster",
    "reason": "--reason",
    "token_name": "NAME",
    "expires": "--expires",
    "token_id": "ID",
}
"""How the command line names each input a refusal can be about."""


class BadAccessInput(PermanentError):
    exit_code = 2

    def __init__(self, rule: str, *, field: str | None = None) -> None:
        super().__init__(f"{CLI_NAMES.get(field, field)}: {rule}" if field else rule)
        self.field = field
        self.rule = rule


class InvitationInvalid(BadAccessInput):
    pass


class UnknownAccount(BadAccessInput, LookupError):
    pass


class AmbiguousToken(BadAccessInput):
    """The id given is the start of several tokens' ids (of those the caller may manage).

    Refusing without saying which leaves the operator to run ``tokens list`` and compare ids by
    eye; so the text names each candidate as the listing does (id, name, status, who created
    it and when; never the token or its hash), and ``candidates`` holds them for a front door
    that shows them its own way (the CLI as a table, in local time).
    """

    def __init__(self, given: str, candidates: Sequence[TokenView]) -> None:
        listed = "; ".join(
            f"{t.id} {t.name} ({t.status}, created {t.created_at.isoformat(timespec='seconds')}"
            f" by {t.created_by})"
            for t in candidates
        )
        super().__init__(
            f"{given} is the start of {len(candidates)} token ids, give more of one: {listed}",
            field="token_id",
        )
        self.given = given
        self.candidates = tuple(candidates)
        self.coded("access.token_ambiguous", id=given, count=len(candidates))


class AccountConflict(BadAccessInput):
    """The e-mail address has an account, or the token name is taken (also by a revoked one)."""
