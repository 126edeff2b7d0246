"""Why an access operation was refused, sorted by what the caller must do.

::

    IntegratorError
    ├── AccessDenied          the identity may not do this (HTTP 403)
    ├── LoginRefused          wrong e-mail, password or code, or locked (HTTP 401)
    └── PermanentError
        └── BadAccessInput    fix the input: the message names the option and the rule (exit 2)
            ├── InvitationInvalid   the link is unknown, used, replaced or expired
            └── UnknownAccount      no person or token matches
"""

from __future__ import annotations

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


class BadAccessInput(PermanentError):
    exit_code = 2


class InvitationInvalid(BadAccessInput):
    pass


class UnknownAccount(BadAccessInput, LookupError):
    pass
