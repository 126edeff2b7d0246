"""Access control: who may do what, in which clusters (docs/product.md §8, docs/access.md).

- ``permissions``: roles, permissions, the matrix, grants, identities and the one check.
- ``service``: people, invitations, logins, sessions and API tokens (``AccessService``).
- ``passwords``, ``totp``, ``tokens``: the cryptographic parts, each small and tested alone.
- ``mail``: sending invitation links by e-mail; ``setup``: the service as the engine and the
  CLI build it from the engine settings.

Depends on the store and nothing outward: front doors (CLI, HTTP, console) call in.

The service's names are loaded when first asked for (PEP 562): with them come argon2, the
TOTP and the mail parts (about 35 ms), which a CLI command that only reads the store as the
local operator (``local_identity``) does not need.
"""

from typing import TYPE_CHECKING, Any

from integrator.access.errors import (
    AccessDenied,
    AccountConflict,
    AmbiguousToken,
    BadAccessInput,
    InvitationInvalid,
    LoginRefused,
    SignInsHeld,
    UnknownAccount,
)
from integrator.access.permissions import (
    ALL,
    MATRIX,
    Grant,
    Identity,
    IdentityKind,
    Permission,
    Role,
    local_identity,
    parse_grant,
    render_matrix_markdown,
)
from integrator.access.settings import AccessSettings

if TYPE_CHECKING:
    from integrator.access.service import (
        AcceptResult,
        AcceptStart,
        AccessService,
        Deactivated,
        InvitationLink,
        LoginResult,
        NewToken,
        PersonView,
        RevokedToken,
        SessionTimeLeft,
        TokenView,
    )

_FROM_SERVICE = frozenset(
    {
        "AcceptResult",
        "AcceptStart",
        "AccessService",
        "Deactivated",
        "InvitationLink",
        "LoginResult",
        "NewToken",
        "PersonView",
        "RevokedToken",
        "SessionTimeLeft",
        "TokenView",
    }
)


def __getattr__(name: str) -> Any:
    """The service's names, imported on first use."""
    if name in _FROM_SERVICE:
        from integrator.access import service

        return getattr(service, name)
    raise AttributeError(f"module 'integrator.access' has no attribute {name!r}")


__all__ = [
    "ALL",
    "MATRIX",
    "AcceptResult",
    "AcceptStart",
    "AccessDenied",
    "AccessService",
    "AccessSettings",
    "AccountConflict",
    "AmbiguousToken",
    "BadAccessInput",
    "Deactivated",
    "Grant",
    "Identity",
    "IdentityKind",
    "InvitationInvalid",
    "InvitationLink",
    "LoginRefused",
    "LoginResult",
    "NewToken",
    "Permission",
    "PersonView",
    "RevokedToken",
    "Role",
    "SessionTimeLeft",
    "SignInsHeld",
    "TokenView",
    "UnknownAccount",
    "local_identity",
    "parse_grant",
    "render_matrix_markdown",
]
