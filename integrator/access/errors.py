"""Why an access operation was refused, sorted by what the caller must do.

::

    IntegratorError
    ├── AccessDenied          the identity may not do this (HTTP 403)
    ├── LoginRefused          wrong e-mail, password or code, or locked (HTTP 401)
    └── PermanentError
        └── BadAccessInput    fix the input: the message names the option and the rule (exit 2)
            ├── InvitationInvalid   the link is unknown, used, replaced or expired
            ├── UnknownAccount      no person or token matches (HTTP 404)
            └── AccountConflict     the address or token name is taken (HTTP 409)

A refusal of one input keeps ``field`` and ``rule`` apart, so each front door names the input
its own way: the text (what the CLI prints) says ``--role: …``, the HTTP API ``grants: …``.
"""

from __future__ import annotations

from typing import Final

from integrator.errors import IntegratorError, PermanentError


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


class AccountConflict(BadAccessInput):
    """The e-mail address has an account, or the token name is taken (also by a revoked one)."""
