"""Why an access operation was refused, sorted by what the caller must do.

::

    IntegratorError
    ├── AccessDenied          the identity may not do this (HTTP 403)
    ├── LoginRefused          wrong e-mail, password or code, or locked (HTTP 401)
    ├── SignInsHeld           too many failed attempts from the client's address (HTTP 429)
    └── PermanentError
        └── BadAccessInput    fix the input: the message names the option and the rule (exit 2)
            ├── InvitationInvalid   the link is unknown, used, replaced or expired
            ├── UnknownAccount      no person or token matches (HTTP 404)
            ├── AmbiguousToken      several tokens' ids start so; lists them to pick from
            ├── AccountConflict     the address or token name is taken (HTTP 409)
            └── AccessRefusals      several of these (and of AccessDenied) at once

A refusal of one input keeps ``field`` and ``rule`` apart, so each front door names the input
its own way: the text (what the CLI prints) says ``--role: …``, the HTTP API ``grants: …``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


class SignInsHeld(IntegratorError):
    """An attempt refused unchecked: its client address made too many failed attempts lately
    (``sign_in_throttle``). ``retry_after``: whole seconds until it may try again."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            "too many failed sign-ins from this address: nothing was checked; try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}"
        )
        self.retry_after = retry_after
        self.minutes = minutes


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


class AccessRefusals(BadAccessInput):
    """Several refusals of one request, said together: a form with three mistakes is mended in
    one go, not in three round trips that each name the next one.

    Raised only for two or more (:meth:`Problems.raise_found`); one refusal is raised as
    itself, so every answer to a single mistake stays as it was. ``problems`` holds each, in
    the order of the inputs (a ``BadAccessInput`` naming its field, or an ``AccessDenied``),
    for a front door that says each its own way; the text joins theirs, as the CLI prints
    it. ``denied``: one of them is about who asks, which the API answers 403.
    """

    def __init__(self, problems: Sequence[BadAccessInput | AccessDenied]) -> None:
        joined = "; ".join(str(problem) for problem in problems)
        super().__init__(joined)
        self.problems = tuple(problems)

    @property
    def denied(self) -> bool:
        return any(isinstance(problem, AccessDenied) for problem in self.problems)


class Problems:
    """The refusals of one request's inputs, gathered while each input is checked, so that
    they are all said at once (:class:`AccessRefusals`) instead of the first alone.

    A check that depends on another input being right (whether a cluster exists, asked only
    of a grant the caller may give) asks :attr:`denied` or the count first; checks that may
    not be gathered (an unknown account, the store failing) are simply not wrapped."""

    def __init__(self) -> None:
        self.found: list[BadAccessInput | AccessDenied] = []

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """Run a check; its refusal (or refusals) is kept instead of raised."""
        try:
            yield
        except AccessRefusals as refused:
            self.found.extend(refused.problems)
        except (BadAccessInput, AccessDenied) as refused:
            self.found.append(refused)

    def add(self, refused: BadAccessInput | AccessDenied) -> None:
        self.found.append(refused)

    @property
    def denied(self) -> bool:
        return any(isinstance(problem, AccessDenied) for problem in self.found)

    def raise_found(self) -> None:
        """Raise what was found: nothing, the one refusal as itself, or all of them."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise AccessRefusals(self.found)
