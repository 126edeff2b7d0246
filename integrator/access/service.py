"""Access control as one service: people, invitations, logins, sessions and API tokens.

Every front door (CLI, HTTP, console) calls this and holds no rule of its own. The rules live
here and in :mod:`integrator.access.permissions`:

- Who may manage whom: an admin acts only on grants inside the clusters of their own
  ``people.manage`` / ``tokens.manage`` grants ("outside a grant's clusters a person neither
  sees nor acts"). The server's CLI is trusted as its OS user and may do everything.
- A person may make a token for themselves with no more than their own grants; such a token
  is re-checked against its owner at every use, so it never outlives or outgrows them.
- Nobody gets patient data through a token they make: through the console or the API a token
  may hold a role that reads patient data (``PATIENT_DATA_ROLES``) only where its maker holds
  that role, when it is made and at every use after (a maker who loses the role, or whose
  account is deactivated, takes it from the token; its other roles stay). Otherwise the admin
  role, which reads no patient data, would be ``resend`` in one click, and a person who lost
  ``resend`` would keep it through a token made earlier. The server's CLI, which can read the
  database anyway, may make any token, and such a token is bound to nobody.
- Nor through a person: a role that reads patient data is given to a person only where the
  giver holds it, and without a mail server a link (an invitation, one sent again, a second
  factor reset) for an account that would read patient data where the caller does not is
  refused, since whoever holds the link chooses that account's password. The server's CLI
  does both.
- A token made by a token depends on its maker: it expires no later, and stops when the maker
  stops (revoked, expired, its owner deactivated), transitively, so a leaked token cannot mint
  successors that outlive its revocation.
- Every change and every login, failed or not, goes to the audit trail with the acting
  identity's display name, never with a password, code or secret.

Time comes from the injected clock, so expiry, idle timeouts and lockouts are tested by moving
the clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final, Generic, Literal, TypeVar

from destinations.config import CLUSTER_NAME_RULE, is_cluster_name
from integrator import reasons
from integrator.access import tokens as secrets_
from integrator.access import totp
from integrator.access.errors import (
    AccessDenied,
    AccountConflict,
    AmbiguousToken,
    BadAccessInput,
    InvitationInvalid,
    LoginRefused,
    Problems,
    SignInsHeld,
    UnknownAccount,
)
from integrator.access.known_devices import KnownDevices
from integrator.access.limits import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
)
from integrator.access.mail import (
    Mailer,
    MailFailed,
    invitation_mail,
    second_factor_reset_mail,
)
from integrator.access.passwords import Passwords, WeakPassword, check_policy, off_the_loop
from integrator.access.permissions import (
    ALL,
    FOR_ALL_CLUSTERS_ONLY,
    PATIENT_DATA_ROLES,
    Grant,
    Identity,
    IdentityKind,
    Permission,
    Role,
    SuspendedGrant,
)
from integrator.access.settings import AccessSettings
from integrator.access.sign_in_throttle import Held, Reservation, SignInThrottle
from integrator.clock import Clock
from integrator.presenters import iso_time
from integrator.refusal import Note
from integrator.stated_reason import given
from integrator.store import (
    Conflict,
    GrantRecord,
    GrantSpec,
    InvitationRecord,
    NewInvitation,
    PersonRecord,
    SessionRecord,
    Store,
    StoreUnavailable,
    TokenRecord,
    idprefix,
)
from integrator.store.errors import SealedValueError
from integrator.store.people import AccessState, AuditEntry, Found


def _bookkeeping() -> contextlib.suppress:
    """Around a write that only notes when a token or session was last used: a store whose
    writes fail (read-only, full, without a privilege) still answers the reads a request came
    for, and ``/metrics`` must answer then, saying ``integrator_store_up 0``, not 503. The
    failure counts all the same: the store's write health notes and logs it
    (``integrator.store.write_health``), and the time is written by the next request after."""
    return contextlib.suppress(StoreUnavailable)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_TOKEN_NAME_LENGTH - 1}}}$")
ANONYMOUS = "anonymous"  # the actor of a failed login: nobody was authenticated


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvitationLink:
    """A one-time link for the invited person; only its hash is stored.

    ``link`` is None when it was sent to the person by e-mail: then nobody else ever sees it,
    not even the admin who invited them.
    """

    email: str
    link: str | None
    expires_at: datetime
    person_id: str
    invited_before_with: tuple[Grant, ...] = ()
    """``create-admin`` of a person invited before: the grants they held then, beside which
    they now hold admin for all clusters (and their earlier link no longer works). Said, so
    that a mistyped address is not a colleague made admin without a word."""

    @property
    def sent(self) -> bool:
        return self.link is None

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """As ``presenters`` gives times: in ``zone`` if given (the CLI's), else as stored."""
        shown: dict[str, Any] = {
            "email": self.email,
            "person": self.person_id,
            "expires_at": iso_time(self.expires_at, zone),
            "sent": self.sent,
        }
        if self.link is not None:
            shown["link"] = self.link
        if self.invited_before_with:
            shown["invited_before_with"] = [str(g) for g in self.invited_before_with]
        return shown


@dataclass(frozen=True, slots=True)
class AcceptStart:
    """What the invited person's screen shows before they choose a password."""

    email: str
    name: str
    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class AcceptResult:
    email: str
    recovery_codes: list[str]  # shown once, never stored in the clear


@dataclass(frozen=True, slots=True)
class LoginResult:
    session: str  # the cookie value; only its hash is stored
    expires_at: datetime
    identity: Identity
    method: str  # "totp" or "recovery_code"
    recovery_codes_left: int
    # The browser's new known-device cookie (``known_devices``); None when those are off.
    device: str | None = None


@dataclass(frozen=True, slots=True)
class SessionTimeLeft:
    """What a console session has left: ``idle`` unless its person does something, and
    ``at_most`` whatever they do (its lifetime)."""

    idle: timedelta
    at_most: timedelta

    @property
    def ends_in(self) -> timedelta:
        return min(self.idle, self.at_most)

    @property
    def can_be_kept(self) -> bool:
        """Whether "stay signed in" would move the end: not when the lifetime comes first."""
        return self.idle < self.at_most


TokenKind = Literal["machine", "own"]
"""Whose a token is (docs/access.md, "Who may make one"): ``machine``, a machine's token, which
goes on working when the person who made it leaves (its roles that read patient data only while
that person holds them); ``own``, a person's own token, which acts only within its owner's
grants and stops when their account is deactivated."""


def token_kind(owner_id: str | None) -> TokenKind:
    """The one rule that tells the two apart: a token of one's own records its owner."""
    return "machine" if owner_id is None else "own"


@dataclass(frozen=True, slots=True)
class NewToken:
    """The token as shown once at creation."""

    id: str
    name: str
    token: str
    prefix: str
    expires_at: datetime
    owner_id: str | None
    grants: tuple[Grant, ...]
    maker_token_id: str | None = None
    """The token that made this one, which it depends on (None: a person or the CLI made it)."""

    @property
    def kind(self) -> TokenKind:
        """Said where it is made, as the maker cannot tell from the form which it will be:
        the same admin makes a machine's token within the clusters they administer and a
        token of their own beyond them."""
        return token_kind(self.owner_id)

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """As ``presenters`` gives times: in ``zone`` if given (the CLI's), else as stored."""
        return {
            "id": self.id,
            "name": self.name,
            "token": self.token,
            "prefix": self.prefix,
            "expires_at": iso_time(self.expires_at, zone),
            "owner": self.owner_id,
            "kind": self.kind,
            "maker_token": self.maker_token_id,
            "grants": [str(g) for g in self.grants],
        }


@dataclass(frozen=True, slots=True)
class PersonView:
    id: str
    email: str
    name: str
    status: str
    locked_until: datetime | None
    grants: tuple[Grant, ...]
    inactive_grants: tuple[Grant, ...]
    second_factor_reset: bool = False
    """``invited`` again after a reset of their second factor, not yet set up anew."""
    tokens_suspended: tuple[SuspendedToken, ...] | None = None
    """In the answer to a change of grants: the tokens that lost grants with it."""
    invitation_expires_at: datetime | None = None
    """Someone invited: when their link stops working (in the past: it has, and only sending
    the invitation again lets them in). None for everybody else."""
    links_stopped: bool | None = None
    """In the answer to a change of grants: whether it stopped the person's open invitation
    or setup link (:meth:`AccessService.set_grants`), so a new one must be sent. None in any
    other answer."""

    @property
    def status_text(self) -> str:
        """The status as a person reads it: a reset pending is told from a new invitation."""
        return "invited again (second factor reset)" if self.second_factor_reset else self.status

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """As ``presenters`` gives times: in ``zone`` if given (the CLI's), else as stored."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "second_factor_reset": self.second_factor_reset,
            "locked_until": iso_time(self.locked_until, zone) if self.locked_until else None,
            "invitation_expires_at": (
                iso_time(self.invitation_expires_at, zone) if self.invitation_expires_at else None
            ),
            "grants": [_grant_json(g) for g in self.grants],
            "inactive_grants": [_grant_json(g) for g in self.inactive_grants],
            **(
                {"tokens_suspended": [t.to_json() for t in self.tokens_suspended]}
                if self.tokens_suspended is not None
                else {}
            ),
            **({"links_stopped": self.links_stopped} if self.links_stopped is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as listed: never the token, only its visible prefix."""

    id: str
    name: str
    prefix: str
    status: str  # active | expired | revoked | stopped (a token that made it no longer works)
    owner_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    grants: tuple[Grant, ...]
    """The grants the token holds (as made); those of ``suspended`` are not in force."""
    maker_token_id: str | None = None
    suspended: tuple[SuspendedGrant, ...] = ()
    """Held grants it does not act with now, each with why (its maker or owner lacks it)."""
    maker_person_id: str | None = None

    @property
    def kind(self) -> TokenKind:
        """Whether it outlives the person who made it: what an admin reviewing tokens, or
        deactivating that person, has to know of each."""
        return token_kind(self.owner_id)

    @property
    def owner_actor(self) -> str | None:
        """A token of one's own's owner, as the audit trail names people (``person:<email>``).
        Only its owner ever makes one, signed in (:meth:`AccessService._token_owner`), so that
        is who made it."""
        return self.created_by if self.owner_id is not None else None

    @property
    def in_force(self) -> tuple[Grant, ...]:
        """The grants it acts with now: what it holds, less what is suspended."""
        cut = {held.grant for held in self.suspended}
        return tuple(g for g in self.grants if g not in cut)

    @property
    def patient_data_in_force(self) -> tuple[Grant, ...]:
        """Its grants in force that read patient data: what it loses when its maker (a person,
        for a token made in the console) is deactivated, as a deactivated person holds none."""
        return tuple(g for g in self.in_force if g.role in PATIENT_DATA_ROLES)

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """As ``presenters`` gives times: in ``zone`` if given (the CLI's), else as stored."""

        def iso(moment: datetime | None) -> str | None:
            return iso_time(moment, zone) if moment else None

        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "status": self.status,
            "owner": self.owner_id,
            "kind": self.kind,
            "maker_token": self.maker_token_id,
            "maker_person": self.maker_person_id,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
            "grants": [_grant_json(g) for g in self.grants],
            "grants_in_force": [_grant_json(g) for g in self.in_force],
            "suspended": [held.to_json() for held in self.suspended],
        }


@dataclass(frozen=True, slots=True)
class SuspendedToken:
    """A working token that lost grants with a change of a person's access: the roles that read
    patient data it held where its maker no longer does (or, a token of one's own, any grant
    its owner lost). Named in the change's answer and counted in its audit entry."""

    token: TokenView
    lost: tuple[Grant, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.token.id,
            "name": self.token.name,
            "suspended": [str(g) for g in self.lost],
        }


@dataclass(frozen=True, slots=True)
class RevokedToken:
    """A token just revoked, and the tokens it made (transitively) that stopped with it."""

    token: TokenView
    dependents: tuple[TokenView, ...]

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        return {
            **self.token.to_json(zone),
            "dependent_tokens": len(self.dependents),
            "stopped": [{"id": t.id, "name": t.name} for t in self.dependents],
        }


@dataclass(frozen=True, slots=True)
class Deactivated:
    """An account just deactivated, and the machines' tokens its person made, which go on
    working (an upstream system must not stop because the admin who made its token left):
    listed so the admin can revoke those that should not. A deactivated person holds nothing,
    so those tokens lose the roles that read patient data (``tokens_suspended``)."""

    email: str
    machine_tokens: tuple[TokenView, ...]
    tokens_suspended: tuple[SuspendedToken, ...] = ()

    def to_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        return {
            "email": self.email,
            "status": "deactivated",
            "machine_tokens": [_kept_json(t, zone) for t in self.machine_tokens],
            "tokens_suspended": [t.to_json() for t in self.tokens_suspended],
        }


# -- the service ---------------------------------------------------------------------------------

KnownClusters = Callable[[], Awaitable[Collection[str]]]
"""The clusters the configured destinations are in, asked when a grant names one."""

GiftTo = Literal["person", "token"]
"""Whom a form gives grants to: a person (an invitation, a change of grants) or a token."""


@dataclass(frozen=True, slots=True)
class Offer:
    """One role as a form to give grants offers it (``AccessService.offers``)."""

    role: Role
    clusters: tuple[str | None, ...]
    """Where it may be given: None for all clusters (first, if so), then clusters by name."""
    refused: BadAccessInput | AccessDenied | None
    """Offered nowhere: the service's refusal of it for all clusters, which says why."""


def grants_seen(by: Identity, grants: Iterable[Grant]) -> str:
    """A fingerprint of the grants among ``grants`` that ``by`` may change: what a form to
    change them is drawn from, carried back with it (``AccessService.set_grants``'s ``seen``).
    Only those, so a change in a cluster ``by`` does not manage refuses nothing and shows
    nothing of it."""
    mine = sorted(str(g) for g in grants if by.may(Permission.PEOPLE_MANAGE, g.cluster))
    return hashlib.sha256("\n".join(mine).encode()).hexdigest()[:16]


class AccessService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: AccessSettings | None = None,
        passwords: Passwords | None = None,
        mailer: Mailer | None = None,
        known_clusters: KnownClusters | None = None,
        sign_ins: SignInThrottle | None = None,
        device_key: bytes | None = None,
    ) -> None:
        """``device_key``: the known-device cookies' key (``known_devices.device_key``); None
        makes and trusts none."""
        self._store = store
        # Failed attempts per client address (docs/access.md): in memory, this engine's own.
        self._sign_ins = sign_ins if sign_ins is not None else SignInThrottle(clock)
        # None: grants are not checked against the destinations (a store without an engine's
        # files, in tests of the access rules alone).
        self._known_clusters = known_clusters
        self._clock = clock
        self._settings = settings or AccessSettings()
        # Browsers signed in from before, which the account lock does not keep out.
        self._devices = KnownDevices(
            clock,
            device_key,
            limit=self._settings.max_failed_logins,
            window=self._settings.lockout,
        )
        self._passwords = passwords or Passwords()
        # Invitations go out by e-mail when there is a mailer; else the link is returned.
        self._mailer = mailer

    @property
    def known_device_lifetime(self) -> timedelta:
        """How long a known-device cookie is taken: the cookie's own age in the browser."""
        return self._devices.lifetime

    @property
    def default_token_validity(self) -> timedelta:
        """How long a token is valid when its maker says nothing: the console's form says it."""
        return self._settings.token_default_validity

    # -- people and invitations ----------------------------------------------------------------

    async def create_admin(
        self, email: str, *, by: Identity, name: str | None = None
    ) -> InvitationLink:
        """Bootstrap from the server: an invitation as admin for all clusters.

        Only the server's CLI may do this; through the API and the console an admin invites
        another admin like anybody else. Several admins may exist, so it is not refused when
        one does, but the audit entry records how many active admins there were. An invited
        address gets a new link (the old one is revoked) and the admin grant, and the grants
        it held before are said (``invited_before_with``, also in the audit entry); an address
        with an account is refused (it would be a way around the password).
        """
        if by.kind is not IdentityKind.LOCAL:
            raise AccessDenied("create-admin is for the server's command line only")
        address = normalise_email(email)
        admins = await self._store.count_people_with_role(Role.ADMIN.value, status="active")
        existing = await self._store.get_person(email=address)
        admin_grant = Grant(Role.ADMIN)
        raw, invitation = self._new_invitation(by)

        def entry(before: Sequence[Grant]) -> AuditEntry:
            # Appended in the transaction that invites (no invitation without its entry).
            return self._entry(
                by,
                "person.create_admin",
                _person_target(address),
                details={
                    "active_admins_before": admins,
                    "expires_at": invitation.expires_at.isoformat(),
                    **({"invited_before_with": [str(g) for g in before]} if before else {}),
                },
            )

        if existing is None:
            person_id = await self._add_person(address, name, [admin_grant], invitation, entry(()))
            return self._link(address, raw, invitation, person_id)
        if existing.status != "invited":
            # The address is not said back (no error echoes): the caller typed it.
            raise BadAccessInput(
                f"this address has an account already ({existing.status}); an admin can give "
                "it the admin role with `integrator users grant`",
                field="email",
            )
        held = _grants(existing.grants, active=True)
        before: tuple[Grant, ...] = ()
        if admin_grant not in held:
            before = tuple(held)
            await self._store.set_person_grants(
                existing.id,
                _specs([*held, admin_grant]),
                now=self._now(),
                invitation=invitation,
                audit=entry(before),
            )
        else:
            await self._store.replace_invitation(existing.id, invitation, audit=entry(()))
        link = self._link(existing.email, raw, invitation, existing.id)
        return replace(link, invited_before_with=before)

    async def invite(
        self,
        by: Identity,
        email: str,
        grants: Sequence[Grant],
        *,
        name: str | None = None,
        reason: str | None = None,
        source: str | None = None,
    ) -> InvitationLink:
        """Invite a colleague with at least one grant.

        The link is valid for ``invitation_validity`` (7 days) and works once. With a mailer it
        is sent to the colleague and not returned; without one it is returned to pass on. When
        the mail fails the person stays invited (audited, ``mail: failed``) and ``MailFailed``
        says so: :meth:`reinvite` sends a new link once mail works, as nobody saw this one.
        """
        address, reason = await self._checked_invitation(by, email, grants, name, reason)
        link = await self._add_invited(by, address, name, grants)
        delivered, failure = await self._deliver(link, _display_name(name, address))
        await self._audit(
            by,
            "person.invite",
            _person_target(address),
            reason=reason,
            details={
                "grants": [str(g) for g in dict.fromkeys(grants)],
                "expires_at": link.expires_at.isoformat(),
                **_mail_outcome(delivered, failure),
            },
            source=source,
        )
        if failure is not None:
            raise failure
        return delivered

    async def _checked_invitation(
        self,
        by: Identity,
        email: str,
        grants: Sequence[Grant],
        name: str | None,
        reason: str | None,
    ) -> tuple[str, str | None]:
        """The address and reason of an invitation :meth:`invite` may make, or every refusal
        of its inputs at once (:class:`Problems`), in the form's order: the address, the
        name, the grants, the reason.

        Whether a cluster exists is asked only of grants ``by`` may give (an unknown one
        would otherwise tell a cluster's admin which clusters exist elsewhere), and a role
        that reads patient data, or the link of an account holding one, only when no grant
        was denied already (one refusal of who asks says enough). An address that has an
        account is said with the rest: it is refused whatever else is typed."""
        problems = Problems()
        address: str | None = None
        with problems.gathered():
            address = normalise_email(email)
        with problems.gathered():
            _display_name(name, address or "")
        if grants:
            await self._gift_problems(by, grants, problems)
            if address is not None and not problems.denied:
                with problems.gathered():
                    self._refuse_link_beyond_own(by, grants, "integrator users invite")
        else:
            problems.add(
                BadAccessInput("an invitation needs at least one role", field="grants").coded(
                    "access.role_needed"
                )
            )
        with problems.gathered():
            reason = _optional_reason(reason)
        if address is not None:
            with problems.gathered():
                await self._refuse_taken(address)
        problems.raise_found()
        assert address is not None  # else normalise_email's refusal was raised
        return address, reason

    async def _gift_problems(
        self, by: Identity, grants: Sequence[Grant], problems: Problems
    ) -> None:
        """Gather the refusals of ``grants`` being given to a person (an invitation, a new grant
        of an account): who may give each in its cluster (:meth:`_grant_problems`), and then,
        when nothing was denied, a role that reads patient data ``by`` does not hold there."""
        await self._grant_problems(by, Permission.PEOPLE_MANAGE, grants, problems)
        if not problems.denied:
            with problems.gathered():
                self._refuse_giving_patient_data(by, grants)

    async def offers(self, by: Identity, *, to: GiftTo) -> list[Offer]:
        """What a form to give grants offers ``by``: per role, the clusters it may be given
        for (None: all clusters), asked of each role for all clusters and for each cluster a
        destination is in or ``by`` holds a grant for, by the very checks an invitation
        (``to="person"``) or a token (``to="token"``) is refused by; a role offered nowhere
        carries the refusal for all clusters, which says why. So a form offers what the
        service takes, and says why it does not offer the rest, without a rule of its own."""
        known = set(await self._known_clusters()) if self._known_clusters is not None else set()
        candidates = [None, *sorted(known | {g.cluster for g in by.grants if g.cluster})]
        offers: list[Offer] = []
        for role in Role:
            refused: dict[str | None, BadAccessInput | AccessDenied] = {}
            for cluster in candidates:
                problems = Problems()
                grant = Grant(role, cluster)
                if to == "person":
                    await self._gift_problems(by, [grant], problems)
                else:
                    await self._token_grant_problems(by, [grant], problems)
                if problems.found:
                    refused[cluster] = problems.found[0]
            given = tuple(c for c in candidates if c not in refused)
            offers.append(Offer(role, given, None if given else refused.get(None)))
        return offers

    async def _grant_problems(
        self, by: Identity, permission: Permission, grants: Sequence[Grant], problems: Problems
    ) -> None:
        """Gather the refusals of ``grants`` being given: a cluster's name that breaks the
        rule, a grant ``by`` may not give (each), and then, only when every grant may be
        given, a cluster no destination is in or a role given for one cluster that is for all
        (:meth:`_check_clusters`). A grant whose cluster's name is refused is not asked
        further: who may give ``viewer@' CARD '`` would only repeat that it is no name."""
        named: list[Grant] = []
        for grant in dict.fromkeys(grants):
            before = len(problems.found)
            with problems.gathered():
                _refuse_cluster_names([grant])
            if len(problems.found) == before:
                named.append(grant)
        for grant in named:
            with problems.gathered():
                self._require_for_each(by, permission, [grant], "give")
        if len(named) == len(dict.fromkeys(grants)) and not problems.denied:
            with problems.gathered():
                await self._check_clusters(by, permission, grants)

    async def _refuse_taken(self, address: str) -> None:
        """Refuse (409) an address that has an account already, naming what to do instead."""
        existing = await self._store.get_person(email=address)
        if existing is not None:
            raise _taken(existing.status)

    async def reinvite(
        self, by: Identity, email: str, *, source: str | None = None
    ) -> InvitationLink:
        """A new link for someone who has not accepted yet; their earlier links stop working.

        Also the way on after a mail that could not be sent: its link was never shown. For a
        person whose second factor was reset the mail is the reset's, which says why.
        """
        person = await self._person(email)
        self._require_over_person(by, person)
        if person.status != "invited":
            # The address is not said back (no error echoes): the caller named the person.
            raise BadAccessInput(
                f"this person is {person.status}, not invited: only someone who has not "
                "accepted their invitation yet can be sent it again"
            ).coded("access.not_invited", person_status=person.status)
        held = _grants(person.grants, active=True)
        self._refuse_link_beyond_own(by, held, "integrator users reinvite")
        link = await self._new_link(by, person)
        reset = _reset_pending(person)
        delivered, failure = await self._deliver(link, person.name, reset=reset)
        await self._audit(
            by,
            "person.reinvite",
            _person_target(person.email),
            details={
                "expires_at": link.expires_at.isoformat(),
                **({"second_factor_reset": True} if reset else {}),
                **_mail_outcome(delivered, failure),
            },
            source=source,
        )
        if failure is not None:
            raise failure
        return delivered

    async def begin_accept(self, raw_link_token: str, *, source: str | None = None) -> AcceptStart:
        """First step of accepting: a fresh TOTP secret for the person's authenticator app.

        Opening the link again makes a new secret (the earlier one was maybe never scanned);
        the link itself stays valid until :meth:`finish_accept` or its expiry. ``source``, the
        client's address, is recorded as for a login: a link opened from an unexpected place
        is worth seeing. A link that does not open counts against the address
        (``sign_in_throttle``), and an address held is refused before the link is looked at.
        """
        with await self._reserve_attempt(source, "invitation.open") as attempt:
            try:
                invitation, person = await self._open_invitation(raw_link_token)
            except InvitationInvalid:
                attempt.failed()
                raise
        secret = totp.new_secret()
        target = _person_target(person.email)
        opened = AuditEntry(
            target,
            "invitation.open",
            target,
            details={"invitation": invitation.id, "source": source},
        )
        if not await self._store.set_pending_totp_secret(person.id, secret, audit=opened):
            raise InvitationInvalid("this invitation link is no longer valid")
        return AcceptStart(
            email=person.email,
            name=person.name,
            totp_secret=secret,
            provisioning_uri=totp.provisioning_uri(secret, person.email),
        )

    async def finish_accept(
        self,
        raw_link_token: str,
        password: str,
        totp_code: str,
        *,
        source: str | None = None,
        known: Sequence[BadAccessInput] = (),
    ) -> AcceptResult:
        """Second step: set the password, confirm the second factor, activate the account.

        Returns the recovery codes, shown this once. The link is used up only when everything
        succeeded; a weak password or a mistyped code may be tried again. A password the
        policy refuses and a wrong code are said together, with ``known`` (the form's own
        refusals, such as two passwords that differ, which make it activate nothing): each
        try costs the person a fresh code from the app, so one refusal per try was a round
        trip, and a fresh code, per mistake.

        A link that does not open and a wrong code count against the client's address
        (``sign_in_throttle``), as a failed sign-in does; while the address is held, nothing
        is checked (:class:`SignInsHeld`).
        """
        with await self._reserve_attempt(source, "invitation.accept") as attempt:
            return await self._finish_accept(
                attempt, raw_link_token, password, totp_code, source=source, known=known
            )

    async def _finish_accept(
        self,
        attempt: Reservation,
        raw_link_token: str,
        password: str,
        totp_code: str,
        *,
        source: str | None,
        known: Sequence[BadAccessInput],
    ) -> AcceptResult:
        try:
            invitation, person = await self._open_invitation(raw_link_token)
        except InvitationInvalid:
            attempt.failed()
            raise
        try:
            secret = self._store.open_totp_secret(person)
        except SealedValueError:
            # Sealed when the link was opened, and it does not open now (the data keys
            # changed, or the row was changed): a new one is made by opening the link again.
            raise BadAccessInput(
                "the second factor set up when this link was opened cannot be read any more: "
                "open the link again and scan the new code"
            ).coded("invitation.secret_unreadable") from None
        if secret is None:
            raise BadAccessInput(
                "open the invitation first: the second factor is not set up"
            ).coded("invitation.not_opened")
        problems = Problems()
        try:
            check_policy(password, person.email)
        except WeakPassword as exc:
            refusal = BadAccessInput(str(exc), field="password")
            if exc.code is not None:  # each rule of the policy has one
                refusal.coded(exc.code, **exc.values)
            problems.add(refusal)
        problems.found.extend(known)
        now = self._now()
        step = totp.verify(secret, totp_code, now, None)
        if step is None:
            attempt.failed()
            problems.add(
                BadAccessInput(
                    "not the code the authenticator app shows now (check the phone's clock)",
                    field="code",
                ).coded("access.code_wrong")
            )
        problems.raise_found()
        assert step is not None  # else its refusal was raised
        codes = totp.new_recovery_codes()
        target = _person_target(person.email)
        done = await self._store.complete_invitation(
            invitation.id,
            person.id,
            password_hash=await self._hash(password),
            totp_step=step,
            recovery_code_hashes=[totp.hash_recovery_code(c) for c in codes],
            now=now,
            audit=AuditEntry(
                target,
                "person.accept",
                target,
                details={"invitation": invitation.id, "source": source},
            ),
        )
        if not done:
            raise InvitationInvalid("this invitation link is no longer valid")
        return AcceptResult(email=person.email, recovery_codes=codes)

    async def list_people(self, by: Identity) -> list[PersonView]:
        """The people an admin may see, each with only the grants inside the admin's clusters."""
        if not by.may_somewhere(Permission.PEOPLE_MANAGE):
            raise AccessDenied("listing people needs the admin role")
        views = []
        links = await self._store.open_invitations()
        for person in await self._store.list_people():
            active = [g for g in _grants(person.grants, active=True) if _sees(by, g)]
            inactive = [g for g in _grants(person.grants, active=False) if _sees(by, g)]
            if active or inactive or by.may(Permission.PEOPLE_MANAGE):
                views.append(
                    PersonView(
                        id=person.id,
                        email=person.email,
                        name=person.name,
                        status=person.status,
                        locked_until=person.locked_until,
                        grants=tuple(active),
                        inactive_grants=tuple(inactive),
                        second_factor_reset=_reset_pending(person),
                        invitation_expires_at=(
                            links.get(person.id) if person.status == "invited" else None
                        ),
                    )
                )
        return views

    async def people_page(self, by: Identity, *, limit: int, offset: int) -> Page[PersonView]:
        """One page of :meth:`list_people` (by e-mail address), and how many it has in all."""
        return Page.of(await self.list_people(by), limit=limit, offset=offset)

    async def person(self, by: Identity, person_id: str) -> PersonView:
        """One person as :meth:`list_people` shows them to ``by``; one outside ``by``'s clusters
        is as unknown as an id nobody has."""
        for view in await self.list_people(by):
            if view.id == person_id:
                return view
        raise UnknownAccount("no person with that id", field="person_id")

    async def set_grants(
        self,
        by: Identity,
        email: str,
        grants: Sequence[Grant],
        *,
        reason: str | None = None,
        source: str | None = None,
        seen: str | None = None,
    ) -> PersonView:
        """Make ``grants`` the person's grants inside ``by``'s clusters.

        ``seen``: ``grants_seen`` of the grants the caller's form was drawn from. When the
        grants ``by`` may change are no longer those, the change is refused: a form drawn
        before a colleague took a role away gave it back without a word, recorded as this
        admin's.

        Grants the person holds outside those clusters are left alone, so an admin of one
        cluster cannot take away what another cluster's admin gave. A reason is required. The
        answer's ``tokens_suspended`` (and the audit entry) name the tokens that lose grants
        with the change: a role that reads patient data taken from the person is taken from
        the tokens they made too (:meth:`_in_force`).

        A change that gives an account a role that reads patient data where it held none
        (``resend@CARD`` to a viewer, ``resend`` for all clusters to one with ``resend@CARD``)
        stops the account's open invitation or setup link at once, in the same transaction
        (refused from then on as a replaced link is), and the answer's ``links_stopped`` and
        the audit entry (``links_stopped``: how many) say so. Without a mail server that link
        may have been shown to an admin who was allowed to see it then (no such role to read
        patient data) and is not now (:meth:`_refuse_link_beyond_own`); kept, it would let that
        admin choose the account's password and second factor and read patient data as the
        account. The link is stopped rather than checked at its acceptance: who saw a link is
        not stored (only its maker's name), grants of its viewer may change as well, and a
        link stopped here is refused by the one check every link already passes, whatever
        front door it comes through. The way on is a new link (:meth:`reinvite`): mailed to
        the person, or shown only to someone who may see it (who holds that role there). The
        link is stopped whether or not mail is configured now: one made earlier, before a
        mail server was set, may have been shown.
        """
        # Every refusal of the form at once (the grants, the reason), then those of the
        # person's own state; an address nobody has is refused alone, as before.
        problems = Problems()
        if grants:
            await self._grant_problems(by, Permission.PEOPLE_MANAGE, grants, problems)
        else:
            problems.add(
                BadAccessInput(
                    "give at least one role (to take every role away, deactivate the account)",
                    field="grants",
                ).coded("access.keep_a_role")
            )
        why = ""
        with problems.gathered():
            why = _required_reason(reason)
        try:
            person = await self._person(email)
        except UnknownAccount:
            problems.raise_found()
            raise
        with problems.gathered():
            await self._refuse_own(by, person)
        if person.status == "deactivated":
            problems.add(BadAccessInput("this account is deactivated").coded("access.deactivated"))
        held = _grants(person.grants, active=True)
        if seen is not None and seen != grants_seen(by, held):
            problems.add(_grants_changed())
        if not problems.denied:
            with problems.gathered():
                self._refuse_giving_patient_data(by, [g for g in grants if g not in held])
        problems.raise_found()

        def plan(current: Sequence[GrantSpec], status: str) -> list[GrantSpec]:
            # Judged again on the grants as they are in the change's transaction: another
            # admin's change committed since they were read above is seen here, not written
            # over (a role taken away given back, or another cluster's grants undone).
            if status == "deactivated":
                raise BadAccessInput("this account is deactivated").coded("access.deactivated")
            now_held = _grants(_active_records(current), active=True)
            if seen is not None and seen != grants_seen(by, now_held):
                raise _grants_changed()
            self._refuse_giving_patient_data(by, [g for g in grants if g not in now_held])
            outside = [g for g in now_held if not by.may(Permission.PEOPLE_MANAGE, g.cluster)]
            return _specs([*outside, *grants])

        cut: list[SuspendedToken] = []
        stopped: list[int] = [0]

        def details(found: Found) -> dict[str, Any]:
            stopped[0] = found.links_stopped
            return {
                "added": [str(_grant(*spec)) for spec in found.added],
                "removed": [str(_grant(*spec)) for spec in found.removed],
                **({"links_stopped": found.links_stopped} if found.links_stopped else {}),
            }

        entry = self._suspending_entry(
            by, "person.grants", person, reason=why, source=source, cut=cut, details=details
        )
        await self._store.set_person_grants(
            person.id,
            [],
            now=self._now(),
            plan=plan,
            stop_links=_links_stop,
            audit=entry,
        )
        view = await self._view(by, person.email)
        return dataclasses.replace(
            view, tokens_suspended=self._shown(by, cut), links_stopped=stopped[0] > 0
        )

    async def deactivate_role(
        self,
        by: Identity,
        email: str,
        role: Role,
        cluster: str | None,
        *,
        reason: str | None = None,
        source: str | None = None,
    ) -> PersonView:
        """Take away one grant; the person's sessions and tokens lose it at their next use.
        A reason is required. A role that reads patient data goes from the tokens the person
        made as well: the answer's ``tokens_suspended`` and the audit entry name them."""
        grant = Grant(role, cluster)
        problems = Problems()  # a blank reason and a grant one may not take: both said
        why = ""
        with problems.gathered():
            why = _required_reason(reason)
        with problems.gathered():
            self._require_for_each(by, Permission.PEOPLE_MANAGE, [grant], "take away")
        problems.raise_found()
        person = await self._person(email)
        await self._refuse_own(by, person)
        if person.status == "deactivated":
            # The grants a deactivated account held stay as the record of what it could do
            # until then, and are in force nowhere: taking one away would change that record
            # and do nothing else (as ``set_grants`` refuses to).
            raise BadAccessInput(
                "cannot take a role away from this person: the account is deactivated, and "
                "its roles stay as they were then, in force nowhere; nothing was changed"
            ).coded("access.deactivated_roles_kept")
        cut: list[SuspendedToken] = []
        entry = self._suspending_entry(
            by,
            "person.role_deactivate",
            person,
            reason=why,
            source=source,
            cut=cut,
            details=lambda _: {"grant": str(grant)},
        )
        if not await self._store.deactivate_grant(person.id, role.value, cluster, audit=entry):
            # Which grants of that role they do hold: a role given for one cluster is taken
            # away by naming that cluster, and "none" alone did not say so. The address is not
            # said back (no error echoes): the caller named the person. Only grants in the
            # caller's clusters, as the person is shown to them: an admin of CARD learnt the
            # person's grants in LAB here, which their listing and ``GET`` leave out.
            held = sorted(
                str(g)
                for g in _grants(person.grants, active=True)
                if g.role == role and _sees(by, g)
            )
            if held:
                raise BadAccessInput(
                    f"this person holds no active grant {grant}; of {role.value} they hold "
                    f"{', '.join(held)}: name its cluster"
                ).coded("access.no_such_grant_held", grant=str(grant), held=", ".join(held))
            raise BadAccessInput(f"this person holds no active grant {grant}").coded(
                "access.no_such_grant", grant=str(grant)
            )
        view = await self._view(by, person.email)
        return dataclasses.replace(view, tokens_suspended=self._shown(by, cut))

    async def deactivate_person(
        self, by: Identity, email: str, *, reason: str | None = None, source: str | None = None
    ) -> Deactivated:
        """Deactivate an account: its sessions, links and own tokens stop at once. A reason is
        required. It is final: no front door reactivates an account, and its address cannot be
        invited again (docs/access.md, "Taking away").

        The machines' tokens the person made stay: an upstream system must not stop because
        the admin who made its token left. They are returned (and counted in the audit entry)
        so the admin sees them and revokes those that should go. They keep their other roles
        but lose those that read patient data: a deactivated person holds nothing, and such a
        role is in force only where the token's maker holds it (``tokens_suspended``, and the
        audit entry's)."""
        why = _required_reason(reason)
        person = await self._person(email)
        await self._refuse_own(by, person)
        self._require_over_person(by, person)
        kept: list[TokenView] = []
        cut: list[SuspendedToken] = []

        def machine_tokens_kept(found: Found) -> dict[str, Any]:
            kept[:] = _machine_tokens_made_by(person, self._views_of(found.after))
            # The person's own tokens stop with the account: named here, or a review of one
            # of them found its making and nothing of when it stopped working.
            own = [
                f"token:{view.name}"
                for view in self._views_of(found.before)
                if view.owner_id == person.id and view.status == "active"
            ]
            return {"machine_tokens_kept": len(kept), "own_tokens_stopped": own}

        entry = self._suspending_entry(
            by,
            "person.deactivate",
            person,
            reason=why,
            source=source,
            cut=cut,
            details=machine_tokens_kept,
        )
        if not await self._store.deactivate_person(person.id, now=self._now(), audit=entry):
            # The address is not said back (no error echoes): the caller named the person.
            raise BadAccessInput("this account is deactivated already; nothing was changed").coded(
                "access.deactivated_already"
            )
        shown = tuple(t for t in kept if self._may_manage_token(by, t))
        return Deactivated(person.email, shown, self._shown(by, cut))

    async def may_act_on_account(self, by: Identity, email: str) -> bool:
        """Whether ``by`` may act on ``email``'s whole account (deactivate it, reset its second
        factor): the check those two make (``_require_over_person``), asked beforehand so the
        console shows their buttons only to an admin whose clusters cover every role the
        person holds, not a confirmation page that is refused after the reason is typed."""
        person = await self._person(email)
        try:
            self._require_over_person(by, person)
        except AccessDenied:
            return False
        return True

    async def machine_tokens_made_by(self, by: Identity, email: str) -> list[TokenView]:
        """The machines' tokens ``email``'s person made that work now, as ``by`` may see them:
        what deactivating the account leaves working (the console's confirmation shows them)."""
        person = await self._person(email)
        self._require_over_person(by, person)
        made = _machine_tokens_made_by(person, await self._token_views())
        return [token for token in made if self._may_manage_token(by, token)]

    async def tokens_made_by(self, by: Identity, person_id: str) -> list[TokenView]:
        """The working tokens made in a session of the person ``person_id`` (machines' tokens
        and their own), as ``by`` may see them, each with what it holds and what is suspended:
        the console's person page shows them, so an admin sees which tokens lost a role that
        reads patient data with the person."""
        if not by.may_somewhere(Permission.PEOPLE_MANAGE):
            raise AccessDenied("seeing a person's tokens needs the admin role")
        return [
            view
            for view in await self._token_views()
            if view.maker_person_id == person_id
            and view.status == "active"
            and self._may_manage_token(by, view)
        ]

    async def token_actors_of(self, by: Identity, actor: str) -> list[str]:
        """The names the audit trail records the tokens of the person ``actor`` names
        (``person:<email>``) under, ``token:<name>``: their own tokens, the machines' tokens
        made in their sessions, and the tokens those made in turn, whatever their state now
        (a review looks back). What a person does with a token is recorded as the token, so a
        review of their actions that searched only ``person:<email>`` would miss it
        (docs/access.md, "Finding entries"). Empty for any other actor. Asked by who reads the
        whole trail, which names these tokens anyway."""
        if not by.may(Permission.AUDIT_READ):
            raise AccessDenied("reviewing the audit trail needs the admin role for all clusters")
        kind, _, address = actor.partition(":")
        if kind != "person" or not address.strip():
            return []
        address = address.strip().lower()  # as the trail's actor term reads an address
        person = await self._store.get_person(email=address)
        person_id = person.id if person is not None else None
        records = await self._store.list_tokens()
        theirs = {
            token.id
            for token in records
            if (person_id is not None and person_id in (token.owner_id, token.maker_person_id))
            # Before revision 0018 a token recorded its maker only so.
            or token.created_by == _person_target(address)
        }
        grown = True
        while grown:  # and the tokens those made, through the API
            more = {
                token.id
                for token in records
                if token.maker_token_id in theirs and token.id not in theirs
            }
            theirs |= more
            grown = bool(more)
        return [_token_target(token.name) for token in records if token.id in theirs]

    async def reset_second_factor(
        self,
        by: Identity,
        email: str,
        *,
        reason: str | None = None,
        source: str | None = None,
        reason_required: bool = False,
    ) -> InvitationLink:
        """End an active person's sign-in credentials at once and give them a setup link.

        For a colleague who lost their phone (or whose stored secret no longer opens) and has
        no recovery codes left. In one transaction the TOTP secret, the unused recovery codes
        and the password are cleared and every console session ends, so a stolen phone (and a
        password kept in it) opens nothing any more; the account is ``invited`` again, with
        its grants, and a new link (as an invitation's: ``invitation_validity``, mailed when
        there is a mailer, else returned) lets the person choose a new password, set up a new
        authenticator and get new recovery codes. While it is pending, ``reinvite`` sends a
        new link, as for anybody invited.

        The person's own API tokens keep working (a stolen phone is not a stolen token): an
        admin who fears otherwise revokes them. Nobody resets their own second factor (in a
        session of theirs or with a token of their own): a hijacked session could otherwise
        swap the owner's credentials for its own. So an admin never locks themselves out this
        way, and a last admin who lost their phone is reset on the server (the CLI is no
        person and may reset anyone).

        The reason is optional in the CLI and the API; the console's confirmation page asks
        for one (``reason_required``), so a reason of blanks is refused there as a required
        reason is everywhere (``reason.required``), before anything is reset.
        """
        reason = _required_reason(reason) if reason_required else _optional_reason(reason)
        if not by.may_somewhere(Permission.PEOPLE_MANAGE):
            raise AccessDenied("resetting a second factor needs the admin role")
        person = await self._person(email)
        if await self._acts_as(by, person):
            raise AccessDenied(
                "you cannot reset your own second factor: another admin does it, or "
                "`integrator users reset-2fa` on the server"
            ).coded("access.reset_own")
        self._require_over_person(by, person)
        # The refusals do not say the address back (no error echoes): the caller named it.
        if person.status == "invited":
            raise BadAccessInput(
                "this person is invited and has no second factor yet: send the invitation "
                "again (reinvite) for a new link"
            ).coded("access.reset_invited")
        if person.status != "active":
            raise BadAccessInput(
                f"this account is {person.status}: only an active account has a second factor "
                "to reset"
            ).coded("access.reset_not_active", person_status=person.status)
        held = _grants(person.grants, active=True)
        self._refuse_link_beyond_own(by, held, "integrator users reset-2fa")
        raw, invitation = self._new_invitation(by)
        seen_since = self._now() - self._settings.session_idle  # one idle longer has ended
        ended = await self._store.reset_second_factor(person.id, invitation, seen_since=seen_since)
        if ended is None:  # deactivated or reset by someone else in the meantime
            raise BadAccessInput("this account is no longer active; nothing was reset").coded(
                "access.reset_gone"
            )
        sessions, codes = ended
        link = self._link(person.email, raw, invitation, person.id)
        delivered, failure = await self._deliver(link, person.name, reset=True)
        await self._audit(
            by,
            "person.reset_second_factor",
            _person_target(person.email),
            reason=reason,
            details={
                "sessions_ended": sessions,
                "recovery_codes_retired": codes,
                "expires_at": link.expires_at.isoformat(),
                **_mail_outcome(delivered, failure),
            },
            source=source,
        )
        if failure is not None:
            raise failure
        return delivered

    # -- logging in and sessions ---------------------------------------------------------------

    async def login(
        self,
        email: str,
        password: str,
        code: str,
        *,
        source: str | None = None,
        device: str | None = None,
    ) -> LoginResult:
        """Password plus second factor (a TOTP code or a recovery code) → a console session.

        Each failure is audited with its reason (never the password or code) and refused with
        the same :class:`LoginRefused`. Wrong passwords and wrong codes both count towards the
        lockout; while locked, nothing is checked and nothing more is counted. Each attempt is
        counted before it is checked (``reserve_login_attempt``), so attempts sent at once get
        no more checks than the limit. Argon2id runs off the event loop (:meth:`_verify`).
        ``source`` is where the attempt came from (the client's address), for the audit trail.

        A TOTP code for a person whose stored secret does not open (``TamperedValue``,
        ``UnknownDataKey``: the row was changed or the data keys do not fit) is refused the same
        way and counted; the audit entry's reason says so with the store's message, which names
        the person's id and the key id, never the secret. Recovery codes still work.

        Every failure also counts against ``source`` (``sign_in_throttle``); an address with
        too many lately is refused before anything is looked at (:class:`SignInsHeld`).

        ``device``: the browser's known-device cookie (``known_devices``). One made for this
        person at an earlier sign-in is checked while the account is locked, its failures
        counted against it instead; the result carries a new one to set.
        """
        with await self._reserve_attempt(source, "login") as attempt:
            try:
                return await self._login(email, password, code, source=source, device=device)
            except LoginRefused:
                attempt.failed()
                raise

    async def _login(
        self, email: str, password: str, code: str, *, source: str | None, device: str | None
    ) -> LoginResult:
        address = typed_address(email)
        is_address = len(address) <= MAX_EMAIL_LENGTH and bool(_EMAIL.match(address))
        # What is not an address is not recorded: it may be a password typed in the wrong field.
        target = _person_target(address if is_address else "(not an e-mail address)")
        person = await self._store.get_person(email=address) if is_address else None
        now = self._now()
        if person is None:
            await self._waste_time(password)
            await self._audit_failure(target, "unknown account", source)
            raise LoginRefused
        if person.status != "active" or person.password_hash is None:
            await self._waste_time(password)
            locked = person.locked_until is not None and now < person.locked_until
            why = "account locked" if locked else f"account {person.status}"
            await self._audit_failure(target, why, source)
            raise LoginRefused
        known = self._devices.known(device, person.id, person.password_hash)
        counted = None if known is None else self._devices.reserve(known)
        if counted is not None:
            # A browser this person signed in from before: checked whatever the account's
            # lock, which it neither counts towards nor lifts; each failure counted against
            # the browser and the person's browsers together (``known_devices``).
            with counted:

                async def through_device(why: str) -> None:
                    counted.failed()
                    await self._audit_failure(target, f"{why} (known device)", source)

                method = await self._checked(person, password, code, now, through_device)
                return await self._open_session(
                    person, password, method, source, now, known_device=True
                )
        # Counted before anything is checked, atomically: else every attempt already in
        # flight when the lock falls would still be checked (a burst guesses without limit).
        limit = self._settings.max_failed_logins
        lock_until = now + self._settings.lockout
        attempt = await self._store.reserve_login_attempt(
            person.id, now=now, max_failures=limit, lock_until=lock_until
        )
        if attempt is None:
            await self._waste_time(password)  # answer as slowly as a real check would
            await self._audit_failure(target, "account locked", source)
            raise LoginRefused
        locks = lock_until if attempt >= limit else None  # this attempt locked the account

        async def against_account(why: str) -> None:
            await self._count_failure(person, why, source, locks)

        method = await self._checked(person, password, code, now, against_account)
        return await self._open_session(person, password, method, source, now)

    async def _checked(
        self,
        person: PersonRecord,
        password: str,
        code: str,
        now: datetime,
        failed: Callable[[str], Awaitable[None]],
    ) -> str:
        """The second factor's method when ``password`` and ``code`` are ``person``'s; else
        ``failed`` is told why (counting and auditing it) and :class:`LoginRefused` raised."""
        assert person.password_hash is not None
        if not await self._verify(person.password_hash, password):
            await failed("wrong password")
            raise LoginRefused
        try:
            method = await self._second_factor(person, code, now)
        except SealedValueError as error:
            await failed(f"second factor does not open: {error}")
            raise LoginRefused from None
        if method is None:
            await failed("wrong second factor")
            raise LoginRefused
        return method

    async def authenticate_session(
        self, raw_session: str, *, activity: bool = True
    ) -> Identity | None:
        """The identity of a console session, or None when it ended (idle, too old, revoked,
        or its person deactivated). Grants are read afresh, so a role taken away is gone.

        ``activity=False`` is for requests a page makes by itself (the dashboard's refresh):
        they are answered but do not count as the person being there, so a dashboard left open
        still ends after the idle timeout.
        """
        live = await self._live_session(raw_session)
        if live is None:
            return None
        session, person, now = live
        if activity and now - session.last_seen_at >= self._settings.touch_interval:
            with _bookkeeping():
                await self._store.touch_session(
                    session.id,
                    now=now,
                    seen_before=now - self._settings.touch_interval,
                    bookkeeping=True,
                )
        return Identity(
            kind=IdentityKind.PERSON,
            id=person.id,
            display=_person_target(person.email),
            grants=frozenset(_grants(person.grants, active=True)),
            two_factor=session.two_factor,
            session_reason=session.reason,
        )

    async def state_session_reason(self, raw_session: str, reason: str | None) -> bool:
        """State why the person of a live console session looks at patient data, for the rest
        of the session (None or blank: clear it, as a form left empty gives none); False when
        the session has ended meanwhile, and nothing is kept.

        Every view of patient data and every export the session makes records it
        (``authenticate_session`` returns it, the console states it for each request), so it
        obeys every reason's rules (``reasons.bounded``): refused, coded ``reason.too_long`` or
        ``reason.holds_bsn``, before anything is kept. Kept without its outer blanks. Not
        audited itself: each entry it explains carries it."""
        why = given(reasons.bounded(reason, _reason_refused))
        live = await self._live_session(raw_session)
        return live is not None and await self._store.set_session_reason(live[0].id, why)

    async def current(self, identity: Identity) -> Identity | None:
        """``identity`` as it stands now, read afresh from the store, or None when it no longer
        acts at all: a token revoked, expired, or stopped with its maker or its deactivated
        owner; a person deactivated or invited again (a second factor reset).

        For work that outlives the request that was let through: a batch job runs on for
        minutes after its check, and a token revoked because it leaked, or a person whose
        access was taken away, must not go on resending under their name (``AccessService``
        asks at every request; a job asks this between its steps). The server's CLI is
        trusted as its user and stays as it is.
        """
        if identity.kind is IdentityKind.LOCAL:
            return identity
        now = self._now()
        if identity.kind is IdentityKind.TOKEN:
            token = await self._store.get_token(token_id=identity.id)
            found = None if token is None else await self._grants_in_force(token, now)
            if found is None:
                return None
            held, suspended = found
            return dataclasses.replace(identity, grants=frozenset(held), suspended=suspended)
        person = await self._store.get_person(person_id=identity.id)
        if person is None or person.status != "active":
            return None
        return dataclasses.replace(identity, grants=frozenset(_grants(person.grants, active=True)))

    @property
    def idle_left_at_least(self) -> timedelta:
        """What a session surely has left after a request that counted as activity: its idle
        timeout, less the ``touch_interval`` its last-seen time may lag behind by. A page
        rendered now asks :meth:`session_time_left` no sooner than this, less its warning's
        lead."""
        return self._settings.session_idle - self._settings.touch_interval

    async def session_time_left(
        self, raw_session: str, *, keep: bool = False
    ) -> SessionTimeLeft | None:
        """How long a console session has left, or None when it has ended; for the warning a
        page shows before the idle timeout. Asking is no activity (a page asks by itself).

        ``keep``: the person said they are still there ("stay signed in"): the idle clock
        starts again now, whatever ``touch_interval`` would wait for. The session's lifetime
        is not moved: after 12 hours a person signs in again, whatever they did.
        """
        live = await self._live_session(raw_session)
        if live is None:
            return None
        session, _, now = live
        seen = session.last_seen_at
        if keep and await self._store.touch_session(session.id, now=now, seen_before=now):
            seen = now
        return SessionTimeLeft(
            idle=seen + self._settings.session_idle - now, at_most=session.expires_at - now
        )

    async def _live_session(
        self, raw_session: str
    ) -> tuple[SessionRecord, PersonRecord, datetime] | None:
        """The session, its person and the time now, unless the session has ended."""
        session = await self._store.get_session(secrets_.hash_secret(raw_session))
        now = self._now()
        if (
            session is None
            or session.revoked_at is not None
            or now >= session.expires_at
            or now - session.last_seen_at >= self._settings.session_idle
        ):
            return None
        person = await self._store.get_person(person_id=session.person_id)
        if person is None or person.status != "active":
            return None
        return session, person, now

    async def logout(self, raw_session: str, *, source: str | None = None) -> None:
        session_hash = secrets_.hash_secret(raw_session)
        session = await self._store.get_session(session_hash)
        if session is None or not await self._store.revoke_session(session_hash, now=self._now()):
            return
        person = await self._store.get_person(person_id=session.person_id)
        if person is not None:
            target = _person_target(person.email)
            await self._audit_as(target, "logout", target, details={"source": source})

    # -- API tokens ----------------------------------------------------------------------------

    async def create_token(
        self,
        by: Identity,
        name: str,
        grants: Sequence[Grant],
        *,
        expires_in: timedelta | None = None,
        reason: str | None = None,
        source: str | None = None,
    ) -> NewToken:
        """A new API token, returned in the clear this once; only its hash is stored.

        An admin (``tokens.manage`` in the clusters of every grant) makes a machine's token,
        which stands on its own until it expires or is revoked; a role that reads patient data
        it may give only where it holds that role itself (the server's CLI gives any), and the
        token acts with it only while its maker does (:func:`_in_force`). Anybody
        else makes a token of their own, with a subset of their own grants; it works only while
        they may do the same.

        A token made with a token (through the API) records its maker and depends on it: it
        expires no later (an ``expires_in`` beyond the maker's expiry is refused; without one,
        the default is cut to the maker's expiry) and stops when its maker stops. A token made
        in a person's session records that person (``maker_person_id``): a role that reads
        patient data stays in force only where they hold it. One made on the server's CLI
        records neither and is bound to nobody.
        """
        checked = await self._checked_token(by, name, grants, expires_in, reason)
        owner_id, maker, expires_at = checked.owner_id, checked.maker, checked.expires_at
        reason, now = checked.reason, checked.now
        raw = secrets_.new_token()
        token = NewToken(
            id=str(uuid.uuid4()),
            name=name,
            token=raw,
            prefix=secrets_.visible_prefix(raw),
            expires_at=expires_at,
            owner_id=owner_id,
            grants=tuple(dict.fromkeys(grants)),
            maker_token_id=maker.id if maker is not None else None,
        )
        made = self._entry(
            by,
            "token.create",
            _token_target(name),
            reason=reason,
            details={
                "id": token.id,
                "prefix": token.prefix,
                "grants": [str(g) for g in token.grants],
                "expires_at": token.expires_at.isoformat(),
                "owner": owner_id,
                "maker_token": token.maker_token_id,
            },
            source=source,
        )
        try:
            await self._store.add_token(
                token.id,
                name=name,
                token_hash=secrets_.hash_secret(raw),
                prefix=token.prefix,
                owner_id=owner_id,
                created_by=by.display,
                created_at=now,
                expires_at=token.expires_at,
                grant_specs=_specs(token.grants),
                maker_token_id=token.maker_token_id,
                maker_person_id=by.id if by.kind is IdentityKind.PERSON else None,
                audit=made,
            )
        except Conflict:  # taken between the check and now
            raise _token_name_taken() from None
        return token

    async def check_token(
        self,
        by: Identity,
        name: str,
        grants: Sequence[Grant],
        *,
        expires_in: timedelta | None = None,
        reason: str | None = None,
        known: Sequence[BadAccessInput] = (),
    ) -> None:
        """Every refusal :meth:`create_token` would give, said together with ``known`` (the
        front door's own refusals of what it could not read, such as a number of days that is
        none), and nothing made: a form refused for one input still hears about the others."""
        problems = Problems()
        problems.found.extend(known)
        with problems.gathered():
            await self._checked_token(by, name, grants, expires_in, reason)
        problems.raise_found()

    async def _checked_token(
        self,
        by: Identity,
        name: str,
        grants: Sequence[Grant],
        expires_in: timedelta | None,
        reason: str | None,
    ) -> _CheckedToken:
        """What :meth:`create_token` makes the token with, or every refusal of its inputs at
        once, in the form's order: the name, the validity, the grants, the reason.

        Who may give each grant is asked before whether its cluster exists (who may not give
        it learns nothing), and only of grants whose cluster is a name at all; a name that is
        taken is said with the rest (it is refused whatever else is typed)."""
        problems = Problems()
        if not _TOKEN_NAME.match(name):
            problems.add(
                BadAccessInput(
                    f"1 to {MAX_TOKEN_NAME_LENGTH} letters, digits, '.', '_' or '-', starting "
                    "with a letter or digit",
                    field="token_name",
                ).coded("access.token_name_rule", most=MAX_TOKEN_NAME_LENGTH)
            )
        elif any(token.name == name for token in await self._store.list_tokens()):
            problems.add(_token_name_taken())
        validity = self._settings.token_default_validity if expires_in is None else expires_in
        if validity <= timedelta(0) or validity > self._settings.token_max_validity:
            problems.add(
                BadAccessInput(
                    f"more than 0 and at most {self._settings.token_max_validity.days}d",
                    field="expires",
                ).coded("access.token_validity", days=self._settings.token_max_validity.days)
            )
        owner_id: str | None = None
        if grants:
            owner_id = await self._token_grant_problems(by, grants, problems)
        else:
            problems.add(
                BadAccessInput("a token needs at least one role", field="grants").coded(
                    "access.role_needed"
                )
            )
        with problems.gathered():
            reason = _optional_reason(reason)
        now = self._now()
        maker = await self._maker_of(by)
        expires_at = now + validity
        if maker is not None and expires_at > maker.expires_at:
            if expires_in is not None:
                problems.add(
                    BadAccessInput(
                        f"at most until {maker.expires_at.isoformat(timespec='seconds')}, when "
                        "the token making it expires: a token made with a token stops with it",
                        field="expires",
                    ).coded("access.token_outlives_maker", until=maker.expires_at.isoformat())
                )
            expires_at = maker.expires_at
        problems.raise_found()
        return _CheckedToken(owner_id, maker, expires_at, reason, now)

    async def _token_grant_problems(
        self, by: Identity, grants: Sequence[Grant], problems: Problems
    ) -> str | None:
        """Gather the refusals of ``grants`` on a token ``by`` makes: each cluster's name, then
        who may give them (whose token it is, :meth:`_token_owner`), then, when nothing was
        denied, whether their clusters exist. The owner's id (None: a machine's token)."""
        owner_id: str | None = None
        before = len(problems.found)
        for grant in dict.fromkeys(grants):
            with problems.gathered():  # its name alone: tells nothing about who may give it
                _refuse_cluster_names([grant])
        if len(problems.found) == before:
            with problems.gathered():  # first: who may not give it learns nothing
                owner_id = self._token_owner(by, grants)
            if not problems.denied:
                with problems.gathered():
                    await self._check_clusters(by, Permission.TOKENS_MANAGE, grants)
        return owner_id

    async def list_tokens(self, by: Identity) -> list[TokenView]:
        """The tokens ``by`` may manage (or owns), newest first; never the token itself."""
        return [view for view in await self._token_views() if self._may_manage_token(by, view)]

    async def tokens_page(self, by: Identity, *, limit: int, offset: int) -> Page[TokenView]:
        """One page of :meth:`list_tokens` (newest first, then by name), and how many in all."""
        return Page.of(await self.list_tokens(by), limit=limit, offset=offset)

    async def revoke_token(
        self,
        by: Identity,
        token_id: str,
        *,
        reason: str | None = None,
        source: str | None = None,
        again_answers: bool = False,
    ) -> RevokedToken:
        """Revoke by id, or by a prefix of the id that only one token has.

        The tokens it made, and theirs in turn, stop with it (they are checked against their
        maker at every use); the answer and the audit entry (``dependent_tokens``) say which
        and how many, counting those that worked until now.

        A token revoked already is refused (``access.token_revoked_already``: a person who
        typed the command twice is told so), unless ``again_answers``: then the answer is the
        token as it is now, revoked, in the shape of the first answer, with nothing done and
        nothing audited again (the API's ``DELETE``, which a client whose first request timed
        out must be able to repeat safely)."""
        reason = _optional_reason(reason)
        token = await self._find_token(by, token_id)
        dependents: list[TokenView] = []

        def entry(found: Found) -> AuditEntry:
            # The tokens that stop with it as the revocation's transaction found them working.
            dependents[:] = _made_by(token.id, self._views_of(found.before))
            return self._entry(
                by,
                "token.revoke",
                _token_target(token.name),
                reason=reason,
                details={
                    "id": token.id,
                    "dependent_tokens": len(dependents),
                    "dependents": [t.name for t in dependents],
                },
                source=source,
            )

        if not await self._store.revoke_token(token.id, now=self._now(), audit=entry):
            if again_answers:  # revoked before: its dependents as they are (and were) now
                listed = await self._token_views()
                views = {view.id: view for view in listed}
                stopped = _made_by(token.id, listed)
                return RevokedToken(views[token.id], tuple(views[t.id] for t in stopped))
            raise BadAccessInput(f"token {token.name} ({token.id}) was revoked already").coded(
                "access.token_revoked_already", name=token.name
            )
        views = {view.id: view for view in await self._token_views()}
        return RevokedToken(views[token.id], tuple(views[t.id] for t in dependents))

    async def authenticate_token(self, raw: str) -> Identity | None:
        """The identity of an ``Authorization: Bearer`` token, or None.

        None when the token is unknown, expired, revoked, or its owner is deactivated. A
        person's token holds only the grants its owner still holds; a role that reads patient
        data only where its maker still holds it (:meth:`_in_force`). The grants it holds but
        may not use now are the identity's ``suspended``, so a refusal can say why.
        """
        if not secrets_.looks_like_token(raw):
            return None
        token = await self._store.get_token(token_hash=secrets_.hash_secret(raw))
        now = self._now()
        found = None if token is None else await self._grants_in_force(token, now)
        if token is None or found is None:
            return None
        held, suspended = found
        interval = self._settings.touch_interval
        if token.last_used_at is None or now - token.last_used_at >= interval:
            with _bookkeeping():
                await self._store.touch_token(token.id, now=now, used_before=now - interval)
        return Identity(
            kind=IdentityKind.TOKEN,
            id=token.id,
            display=_token_target(token.name),
            grants=frozenset(held),
            suspended=suspended,
        )

    # -- internals -----------------------------------------------------------------------------

    async def _grants_in_force(
        self, token: TokenRecord, now: datetime
    ) -> tuple[list[Grant], tuple[SuspendedGrant, ...]] | None:
        """The grants ``token`` acts with now and those it holds but may not use, or None when
        it does not work: its maker chain and the people it depends on, read afresh from the
        store and judged by :func:`_in_force` (the rule, shared with the listings)."""
        tokens = {token.id: token}
        link = token
        while link.maker_token_id is not None and link.maker_token_id not in tokens:
            maker = await self._store.get_token(token_id=link.maker_token_id)
            if maker is None:
                break  # a maker gone: _in_force says the token does not work
            tokens[maker.id] = maker
            link = maker
        people: dict[str, PersonRecord] = {}
        for person_id in sorted(_people_of(tokens.values())):
            person = await self._store.get_person(person_id=person_id)
            if person is not None:
                people[person.id] = person
        return _in_force(token, now, tokens, people)

    async def _maker_of(self, by: Identity) -> TokenRecord | None:
        """The token ``by`` is, when a token makes a token (through the API), else None."""
        if by.kind is not IdentityKind.TOKEN:
            return None
        maker = await self._store.get_token(token_id=by.id)
        if maker is None:  # pragma: no cover (it authenticated a moment ago)
            raise AccessDenied("the token making this one no longer exists")
        return maker

    async def _token_views(self) -> list[TokenView]:
        """Every token as listed, newest first, its status saying whether a maker stopped it,
        and with the grants it holds but may not use now (:func:`_in_force`)."""
        records = await self._store.list_tokens()
        needed = _people_of(records)
        people = [p for p in await self._store.list_people() if p.id in needed]
        return self._views_of(AccessState(tuple(people), tuple(records)))

    def _views_of(self, state: AccessState) -> list[TokenView]:
        """:meth:`_token_views` of the people and tokens as a change's transaction read them."""
        now = self._now()
        by_id = {token.id: token for token in state.tokens}
        people = {p.id: p for p in state.people}
        return [_token_view(token, now, by_id, people) for token in state.tokens]

    def _suspending_entry(
        self,
        by: Identity,
        action: str,
        person: PersonRecord,
        *,
        reason: str,
        source: str | None,
        cut: list[SuspendedToken],
        details: Callable[[Found], dict[str, Any]],
    ) -> Callable[[Found], AuditEntry]:
        """The entry of a change of ``person``'s grants or account, made in the change's own
        transaction (so the change is never without it) from what it found there: ``details``,
        and the tokens the person made that it suspends, told from the reads before and after
        it and kept in ``cut`` for the answer."""

        def entry(found: Found) -> AuditEntry:
            cut[:] = self._suspended_by(found)
            return self._entry(
                by,
                action,
                _person_target(person.email),
                reason=reason,
                details={**details(found), **_suspended_details(cut)},
                source=source,
            )

        return entry

    def _suspended_by(self, found: Found) -> list[SuspendedToken]:
        """What a change took from the tokens a person made, told from its transaction's reads
        before and after it (:func:`_suspended_since`)."""
        return _suspended_since(self._views_of(found.before), self._views_of(found.after))

    def _shown(self, by: Identity, cut: Sequence[SuspendedToken]) -> tuple[SuspendedToken, ...]:
        """The suspended tokens ``by`` may manage: what a change's answer names (the audit
        entry counts them all), as the machines' tokens of a deactivation are shown."""
        return tuple(t for t in cut if self._may_manage_token(by, t.token))

    def _now(self) -> datetime:
        return self._clock.now()

    async def _add_invited(
        self, by: Identity, address: str, name: str | None, grants: Sequence[Grant]
    ) -> InvitationLink:
        raw, invitation = self._new_invitation(by)
        person_id = await self._add_person(address, name, grants, invitation, None)
        return self._link(address, raw, invitation, person_id)

    async def _add_person(
        self,
        address: str,
        name: str | None,
        grants: Sequence[Grant],
        invitation: NewInvitation,
        audit: AuditEntry | None,
    ) -> str:
        """Store an invited person (with ``audit`` in the same transaction); their id."""
        person_id = str(uuid.uuid4())
        try:
            await self._store.add_person(
                person_id,
                email=address,
                name=_display_name(name, address),
                grant_specs=_specs(grants),
                invitation=invitation,
                audit=audit,
            )
        except Conflict:
            # Taken between the check and now (another admin inviting the same address).
            existing = await self._store.get_person(email=address)
            raise _taken(existing.status if existing else None) from None
        return person_id

    async def _new_link(self, by: Identity, person: PersonRecord) -> InvitationLink:
        raw, invitation = self._new_invitation(by)
        await self._store.replace_invitation(person.id, invitation)
        return self._link(person.email, raw, invitation, person.id)

    def _new_invitation(self, by: Identity) -> tuple[str, NewInvitation]:
        raw = secrets_.new_secret()
        now = self._now()
        return raw, NewInvitation(
            id=str(uuid.uuid4()),
            token_hash=secrets_.hash_secret(raw),
            created_by=by.display,
            created_at=now,
            expires_at=now + self._settings.invitation_validity,
        )

    def _link(
        self, address: str, raw: str, invitation: NewInvitation, person_id: str
    ) -> InvitationLink:
        # In the fragment (after '#'), which browsers never send to a server: the secret stays
        # out of access logs, proxies and Referer headers.
        base = self._settings.base_url.rstrip("/")
        return InvitationLink(address, f"{base}/invitation#{raw}", invitation.expires_at, person_id)

    async def _deliver(
        self, link: InvitationLink, name: str, *, reset: bool = False
    ) -> tuple[InvitationLink, MailFailed | None]:
        """``link`` mailed to the person (then without the link), or as it was without a
        mailer; with the failure when the mail server did not take it. ``reset``: the link
        sets up a second factor anew (:meth:`reset_second_factor`), and the mail says so."""
        if self._mailer is None or link.link is None:
            return link, None
        make = second_factor_reset_mail if reset else invitation_mail
        mail = make(link.email, name, link.link, link.expires_at.astimezone(self._settings.zone))
        try:
            await self._mailer.send(mail)
        except MailFailed as exc:
            # The address is not said back (no error echoes): the caller named the person.
            done = (
                "the second factor is reset, but its setup link"
                if reset
                else "the person is invited, but the invitation"
            )
            failed = MailFailed(
                f"{done} could not be sent: {exc}. "
                "Nobody has seen its link; send the invitation again once mail works"
            )
            code = "access.mail_failed_reset" if reset else "access.mail_failed"
            return link, failed.coded(code, why=exc)
        return dataclasses.replace(link, link=None), None

    async def _open_invitation(self, raw: str) -> tuple[InvitationRecord, PersonRecord]:
        invitation = await self._store.find_invitation(secrets_.hash_secret(raw.strip()))
        if invitation is None:
            raise InvitationInvalid("this invitation link is not known")
        if invitation.used_at is not None:
            raise InvitationInvalid("this invitation link has been used already")
        if invitation.revoked_at is not None:
            raise InvitationInvalid("this invitation link was replaced by a newer one")
        if self._now() >= invitation.expires_at:
            raise InvitationInvalid("this invitation link has expired; ask an admin for a new one")
        person = await self._store.get_person(person_id=invitation.person_id)
        if person is None or person.status != "invited":
            raise InvitationInvalid("this invitation link is no longer valid")
        return invitation, person

    async def _second_factor(self, person: PersonRecord, code: str, now: datetime) -> str | None:
        """The method that passed ("totp", "recovery_code"), or None; ``SealedValueError``
        when the code is a TOTP code and the person's stored secret does not open."""
        if totp.looks_like_totp(code):
            secret = self._store.open_totp_secret(person)
            if secret is None:
                return None
            step = totp.verify(secret, code, now, person.totp_last_step)
            if step is not None and await self._store.claim_totp_step(person.id, step):
                return "totp"
            return None
        if totp.looks_like_recovery_code(code) and await self._store.use_recovery_code(
            person.id, totp.hash_recovery_code(code), now=now
        ):
            return "recovery_code"
        return None

    async def _open_session(
        self,
        person: PersonRecord,
        password: str,
        method: str,
        source: str | None,
        now: datetime,
        *,
        known_device: bool = False,
    ) -> LoginResult:
        """The session of a sign-in whose credentials passed, unless they changed meanwhile.
        ``known_device``: it came through a known-device cookie, which leaves the account's
        failure count and lock as they are (another browser's guesses made them)."""
        # Read again: a second-factor reset or a deactivation while the password was checked
        # took these credentials away; a session opened on them must not be (nor be audited
        # as a success). One that slips between this read and its insert is ended by the
        # person's next setup (``Store.complete_invitation``) or was never valid (deactivated).
        now_person = await self._store.get_person(email=person.email)
        if (
            now_person is None
            or now_person.status != "active"
            or now_person.password_hash != person.password_hash
        ):
            await self._audit_failure(
                _person_target(person.email), "account changed during sign-in", source
            )
            raise LoginRefused
        if not known_device:
            await self._store.record_login_success(person.id)
        assert person.password_hash is not None
        password_hash = person.password_hash
        if self._passwords.needs_rehash(password_hash):
            password_hash = await self._hash(password)
            await self._store.set_password_hash(person.id, password_hash)
        raw = secrets_.new_secret()
        expires_at = now + self._settings.session_lifetime
        await self._store.add_session(
            SessionRecord(
                id=secrets_.hash_secret(raw),
                person_id=person.id,
                two_factor=True,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                revoked_at=None,
            )
        )
        left = await self._store.unused_recovery_codes(person.id)
        target = _person_target(person.email)
        details: dict[str, Any] = {"method": method, "source": source}
        if method == "recovery_code":
            details["recovery_codes_left"] = left
        if known_device:
            details["known_device"] = True
        await self._audit_as(target, "login.success", target, details=details)
        identity = Identity(
            kind=IdentityKind.PERSON,
            id=person.id,
            display=target,
            grants=frozenset(_grants(person.grants, active=True)),
            two_factor=True,
        )
        device = self._devices.issue(person.id, password_hash)  # new each time: days anew
        return LoginResult(raw, expires_at, identity, method, left, device)

    async def _hash(self, password: str) -> str:
        """Argon2id in a thread (:func:`off_the_loop`): the loop serves everything else."""
        return await off_the_loop(lambda: self._passwords.hash(password))

    async def _verify(self, stored_hash: str, password: str) -> bool:
        return await off_the_loop(lambda: self._passwords.verify(stored_hash, password))

    async def _waste_time(self, password: str) -> None:
        """A verification's work for an attempt that checks nothing (an unknown address, a
        locked or inactive account), so the answer's time tells nothing; off the loop too,
        as those attempts cost nobody an account to make."""
        await off_the_loop(lambda: self._passwords.waste_time(password))

    async def _count_failure(
        self, person: PersonRecord, reason: str, source: str | None, locked_until: datetime | None
    ) -> None:
        """Audit a failed attempt, counted already when it was reserved
        (``reserve_login_attempt``); ``locked_until``: it was the last one allowed, and the
        account is locked until then."""
        target = _person_target(person.email)
        await self._audit_failure(target, reason, source)
        if locked_until is not None:
            await self._store.add_audit(
                ANONYMOUS,
                "login.locked",
                target,
                reason=f"{self._settings.max_failed_logins} failed logins",
                details={"until": locked_until.isoformat(), "source": source},
            )

    async def _reserve_attempt(self, source: str | None, step: str) -> Reservation:
        """Count an attempt from ``source`` before it is checked (``SignInThrottle``), or
        refuse it unchecked with :class:`SignInsHeld`. The first refusal in a window is
        audited (``login.throttled``, the address as target); the others are not, so an
        address held cannot fill the trail at the rate it sends requests. An IPv6 address is
        counted by its /64 (``sign_in_throttle.counted_as``): the entry says so, in its reason
        and as ``counted_as``, since its failures may have come from other addresses of it."""
        reserved = self._sign_ins.reserve(source)
        if isinstance(reserved, Held):
            if reserved.first:
                details: dict[str, object] = {
                    "source": source,
                    "step": step,
                    "until": reserved.until.isoformat(),
                }
                whence = "this address"
                if reserved.counted_as != source:
                    details["counted_as"] = reserved.counted_as
                    whence = reserved.counted_as
                await self._store.add_audit(
                    ANONYMOUS,
                    "login.throttled",
                    f"address:{source}",
                    reason=(
                        f"{reserved.failures} failed attempts from {whence} within "
                        f"{_minutes(self._sign_ins.window)} minutes"
                    ),
                    details=details,
                )
            raise SignInsHeld(reserved.retry_after)
        return reserved

    async def _audit_failure(self, target: str, reason: str, source: str | None) -> None:
        await self._store.add_audit(
            ANONYMOUS, "login.failure", target, reason=reason, details={"source": source}
        )

    def _token_owner(self, by: Identity, grants: Sequence[Grant]) -> str | None:
        """None for a machine's token (``by`` manages tokens there), else ``by``'s person id."""
        if all(by.may(Permission.TOKENS_MANAGE, g.cluster) for g in grants):
            self._refuse_patient_data_beyond_own(by, grants)
            return None
        if by.kind is IdentityKind.PERSON:
            for grant in grants:
                if not any(grant.within(own) for own in by.grants):
                    # Named: a person of one cluster who left the cluster blank (all) learns
                    # which cluster to write.
                    held = ", ".join(str(own) for own in by.grants) or "none"
                    raise AccessDenied(
                        f"a token of your own holds only grants you hold yourself, not "
                        f"{grant}; you hold {held}"
                    ).coded("access.token_beyond_own", grant=str(grant), held=held)
            return by.id
        raise AccessDenied("creating tokens needs the admin role in the clusters of every grant")

    def _refuse_patient_data_beyond_own(self, by: Identity, grants: Sequence[Grant]) -> None:
        """A machine's token reads patient data only where its maker does (403 otherwise).

        ``tokens.manage`` is about people and machines, not patients: were an admin to give a
        token ``resend`` they do not hold, the admin role would be ``resend`` in one click, and
        so would a hijacked admin session or a leaked admin token. So a role that reads patient
        data (``PATIENT_DATA_ROLES``, from the permission matrix) goes onto a token through the
        console or the API only within a grant of that role the maker holds itself: a person's
        grants, or a token's own. The server's CLI is trusted (``local:<user>`` reads the
        database anyway) and may make any token.
        """
        if by.kind is IdentityKind.LOCAL:
            return
        for grant in grants:
            if not _may_hold(grant, by.grants):
                where = f"cluster {grant.cluster}" if grant.cluster else "all clusters"
                raise AccessDenied(
                    f"you may not give a token {grant}: {grant.role.value} reads patient data, "
                    f"and a token made in the console or through the API may hold it only where "
                    f"its maker holds it, and you do not hold {grant.role.value} for {where}; "
                    "someone who does makes it, or `integrator tokens create` on the server"
                ).coded(
                    "access.token_patient_data",
                    grant=str(grant),
                    role=grant.role.value,
                )

    def _refuse_giving_patient_data(self, by: Identity, grants: Sequence[Grant]) -> None:
        """A person gets a role that reads patient data only from someone who holds it there
        (403 otherwise), as a token does (:meth:`_refuse_patient_data_beyond_own`).

        ``people.manage`` is about people, not patients: were an admin to give ``resend``
        they do not hold, they would invite an address of their own with it (the link mailed
        to them there) and read patient data, with nobody else involved; so would a hijacked
        admin session or a leaked admin token. ``grants`` are those being given: a grant the
        person holds already is no gift and stays, so an admin without ``resend`` still
        changes a support colleague's other roles. Taking a grant away is never refused. The
        server's CLI, which can read the database anyway, gives any.
        """
        if by.kind is IdentityKind.LOCAL:
            return
        for grant in grants:
            if not _may_hold(grant, by.grants):
                role = grant.role.value
                raise AccessDenied(
                    f"you may not give {grant}: {role} reads patient data, and only someone "
                    f"who holds it there gives it, and you do not hold {role} for "
                    f"{_where(grant)}; someone who does gives it, or `integrator users grant` / "
                    "`integrator users invite` on the server"
                ).coded("access.person_patient_data", grant=str(grant), role=role)

    def _refuse_link_beyond_own(self, by: Identity, grants: Iterable[Grant], command: str) -> None:
        """Refuse (403) to hand ``by`` a setup or invitation link for an account that would
        read patient data where ``by`` does not.

        Without a mail server the link comes back to the caller, and whoever holds it chooses
        the account's password and second factor: a reset of a support colleague's second
        factor, or an invitation sent again, would be that colleague's patient data for an
        admin who reads none, with the audit trail naming the colleague. With a mail server the
        link goes to the person's address only, so it is not refused; nor on the server's CLI,
        which is trusted (``command`` is the one to run there).
        """
        if by.kind is IdentityKind.LOCAL or self._mailer is not None:
            return
        for grant in grants:
            if not _may_hold(grant, by.grants):
                # The address is not said back (no error echoes): the caller named the person.
                raise AccessDenied(
                    f"the link is not shown to you: the account holds {grant}, "
                    f"which reads patient data, and you do not hold {grant.role.value} for "
                    f"{_where(grant)}; set INTEGRATOR_SMTP_HOST so the link is mailed to the "
                    f"person only, or run `{command}` on the server"
                ).coded(
                    "access.link_patient_data",
                    grant=str(grant),
                    role=grant.role.value,
                )

    def _may_manage_token(self, by: Identity, token: TokenRecord | TokenView) -> bool:
        if by.kind is IdentityKind.PERSON and token.owner_id == by.id:
            return True
        clusters = [g.cluster for g in token.grants] or [None]
        return all(by.may(Permission.TOKENS_MANAGE, c) for c in clusters)

    async def _find_token(self, by: Identity, token_id: str) -> TokenRecord:
        """The one token ``by`` may manage whose id is ``token_id`` or starts with it.

        Token ids are UUIDs, as message ids are, and are read the way message ids are
        (``idprefix.normalise``): regardless of case, and with the dashes a copy left out put
        back; the refusals repeat the id as it was given.

        A token's name is refused, saying whose name it is and that token's id
        (``_token_name_given``), rather than taken: a name may be hex too (``cafe``, ``beef``)
        and so the start of another token's id, and revoking by a name that is also such a
        start would stop one of the two by a rule nobody sees. Only a whole id is taken
        whatever the names are.
        """
        wanted = token_id.strip()
        start = idprefix.normalise(wanted)
        short = len(start.replace("-", "")) < idprefix.MIN_PREFIX
        tokens = [t for t in await self._store.list_tokens() if self._may_manage_token(by, t)]
        exact = [t for t in tokens if t.id in (wanted, start)]
        matches = exact or ([] if short else [t for t in tokens if t.id.startswith(start)])
        named = next((t for t in tokens if t.name == wanted), None)
        if named is not None and not exact and matches != [named]:
            raise _token_name_given(wanted, named, [t.id for t in tokens], matches)
        if short:
            raise BadAccessInput(
                "give the token's id, or at least its first 4 characters", field="token_id"
            ).coded("access.token_id_short")
        if not matches:
            # What was given is not said back: it may be the token itself, pasted by mistake.
            raise UnknownAccount(
                "no token with that id (`integrator tokens list` shows them)",
                field="token_id",
            ).coded("access.token_unknown")
        if len(matches) > 1:
            views = {view.id: view for view in await self._token_views()}
            raise AmbiguousToken(wanted, [views[t.id] for t in matches])
        return matches[0]

    async def _person(self, email: str) -> PersonRecord:
        address = normalise_email(email)
        person = await self._store.get_person(email=address)
        if person is None:
            # The address is not said back (no error echoes): the caller typed it.
            raise UnknownAccount(
                "no account has this e-mail address (`integrator users list` shows them)",
                field="email",
            ).coded("access.person_unknown")
        return person

    async def _acts_as(self, by: Identity, person: PersonRecord) -> bool:
        """Whether ``by`` is ``person``: in a session of theirs, with a token of their own, or
        with a token they made (a machine's token made in their session, or one made with such
        a token): else an admin would make a machine's admin token and give themselves
        ``resend`` with it, their own access changed by nobody else."""
        if by.kind is IdentityKind.PERSON:
            return by.id == person.id
        if by.kind is not IdentityKind.TOKEN:
            return False
        made_in_session = _person_target(person.email)
        seen: set[str] = set()
        token = await self._store.get_token(token_id=by.id)
        while token is not None and token.id not in seen:
            if (
                token.owner_id == person.id
                or token.maker_person_id == person.id
                or token.created_by == made_in_session
            ):
                return True
            seen.add(token.id)
            maker = token.maker_token_id
            token = await self._store.get_token(token_id=maker) if maker is not None else None
        return False

    async def _refuse_own(self, by: Identity, person: PersonRecord) -> None:
        """Nobody changes their own grants or deactivates their own account (403).

        An admin does not read patient data unless granted a role that does; were they to give
        it to themselves, the admin role would be that role in one click, with nobody else
        involved, and a hijacked admin session could do the same. Another admin does it, or
        the server's CLI (``local:<user>``), which is no person and trusted by design. Taking
        one's own grant away or deactivating oneself is refused alike: it could leave no admin
        at all, and is another admin's call too.
        """
        if await self._acts_as(by, person):
            raise AccessDenied(
                "you cannot change your own roles or deactivate your own account: another "
                "admin, or the server's CLI (`integrator users`), changes your own roles"
            ).coded("access.own_account")

    async def _view(self, by: Identity, email: str) -> PersonView:
        for view in await self.list_people(by):
            if view.email == email:
                return view
        raise UnknownAccount(  # pragma: no cover
            "no account has this e-mail address", field="email"
        ).coded("access.person_unknown")

    async def _check_clusters(
        self, by: Identity, permission: Permission, grants: Iterable[Grant]
    ) -> None:
        """Refuse a grant for a cluster that no destination is in, or for one cluster of a role
        that acts only for all (``FOR_ALL_CLUSTERS_ONLY``), both with ``field="cluster"``.

        A cluster is nothing but the ``cluster`` of destinations, so a grant for a misspelt
        one would let its holder see nothing, silently. Taking a grant away is never checked:
        a cluster whose last destination left must stay removable from people and tokens.

        Asked only after ``by`` was found to hold ``permission`` (the admin role) for every
        grant: before, a refusal would tell a cluster's admin which clusters exist (an unknown
        one a 422, another's a 403). The clusters named are those ``by`` administers, all of
        them for an admin of all clusters: elsewhere, too, scoping hides the others. With none
        to name, a sentence says so: no destination names a cluster at all (said only to an
        admin of all clusters, who may know it), or none is in a cluster ``by`` administers.
        """
        grants = list(grants)
        problems = Problems()  # each grant for one cluster that is for all, and the unknown
        for grant in dict.fromkeys(grants):
            why = FOR_ALL_CLUSTERS_ONLY.get(grant.role)
            if why is not None and grant.cluster is not None:
                problems.add(
                    BadAccessInput(
                        f"{grant.role.value} is given for all clusters only ({why}): leave the "
                        f"cluster {grant.cluster} out",
                        field="cluster",
                    ).coded(
                        "access.role_for_all_clusters",
                        role=grant.role.value,
                        cluster=grant.cluster,
                    )
                )
        named = sorted({g.cluster for g in grants if g.cluster is not None})
        if not named or self._known_clusters is None:
            problems.raise_found()
            return
        known = set(await self._known_clusters())
        unknown = [c for c in named if c not in known]
        if not unknown:
            problems.raise_found()
            return
        managed = by.visible_clusters(permission)
        shown = sorted(c for c in known if managed is ALL or c in managed)
        said = f"no destination is in cluster {', '.join(unknown)}"
        if shown:
            code, text = "cluster_unknown", f"{said}; the clusters there are: {', '.join(shown)}"
        elif managed is ALL:
            code, text = (
                "cluster_unknown_no_clusters",
                f"{said}; no destination names a cluster yet",
            )
        else:
            code, text = (
                "cluster_unknown_none_yours",
                f"{said}, nor in any other cluster you administer",
            )
        values = {"clusters": tuple(unknown), **({"known": tuple(shown)} if shown else {})}
        problems.add(BadAccessInput(text, field="cluster").coded(f"access.{code}", **values))
        problems.raise_found()

    def _require_for_each(
        self, by: Identity, permission: Permission, grants: Iterable[Grant], verb: str
    ) -> None:
        for grant in grants:
            if not by.may(permission, grant.cluster):
                where = f"cluster {grant.cluster}" if grant.cluster else "all clusters"
                raise AccessDenied(
                    f"you may not {verb} {grant}: that needs the admin role for {where}"
                ).coded(
                    _MAY_NOT[verb, grant.cluster is None], grant=str(grant), cluster=grant.cluster
                )

    def _require_over_person(self, by: Identity, person: PersonRecord) -> None:
        """An action on a whole account needs the admin role wherever that account reaches."""
        held = _grants(person.grants, active=True)
        clusters = [g.cluster for g in held] or [None]
        if not all(by.may(Permission.PEOPLE_MANAGE, c) for c in clusters):
            raise AccessDenied(  # without the address (no error echoes): the caller named it
                "this person has roles outside your clusters; an admin for those must act"
            ).coded("access.roles_outside")

    async def _audit(
        self,
        by: Identity,
        action: str,
        target: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """An entry as ``by``, in a transaction of its own: for what is not an access change
        (a change appends :meth:`_entry`'s in its own transaction, so it is never without it).
        """
        entry = self._entry(by, action, target, reason=reason, details=details, source=source)
        await self._store.add_audit(
            entry.actor, entry.action, entry.target, reason=entry.reason, details=entry.details
        )

    def _entry(
        self,
        by: Identity,
        action: str,
        target: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> AuditEntry:
        """An entry as ``by``; ``source`` (the client's address) goes into its details."""
        if source is not None:
            details = {**(details or {}), "source": source}
        return AuditEntry(by.display, action, target, reason=reason, details=details)

    async def _audit_as(
        self, actor: str, action: str, target: str, *, details: dict[str, Any] | None = None
    ) -> None:
        await self._store.add_audit(actor, action, target, details=details)


_MAY_NOT: Final = {
    ("give", False): "access.may_not_give",
    ("give", True): "access.may_not_give_everywhere",
    ("take away", False): "access.may_not_take_away",
    ("take away", True): "access.may_not_take_away_everywhere",
}
"""The refusal codes of ``_require_for_each``: by verb, and whether the grant is for all."""

# -- helpers -------------------------------------------------------------------------------------


def _minutes(period: timedelta) -> int:
    return int(period.total_seconds() // 60)


def _reason_refused(rule: str) -> BadAccessInput:
    """A refused reason as every access refusal of one input: ``--reason: rule`` on the
    command line, ``reason`` and the rule for the API and the console."""
    return BadAccessInput(rule, field="reason")


def _required_reason(reason: str | None) -> str:
    """The reason a change of someone's access needs, without its outer blanks.

    Changing or taking away grants and deactivating an account decide who may see patient
    data; the audit trail's reason is the only record of why, for whoever asks later, so a
    blank one is refused (``field="reason"``) in every front door alike, as a resend's is; so
    is one longer than ``reasons.MAX_REASON`` (``reason.too_long``), the audit trail's bound.
    """
    return reasons.required(
        reason, _reason_refused, missing="a reason is required (it goes into the audit log)"
    )


def _optional_reason(reason: str | None) -> str | None:
    """A reason an access change may go without (an invitation, a token made or revoked, a
    second factor reset): kept as given, but refused when longer than ``reasons.MAX_REASON``,
    checked before anything is changed, as a required one is."""
    return reasons.bounded(reason, _reason_refused)


def typed_address(email: str) -> str:
    """An e-mail address as typed, without what nobody sees: the ends' spaces, and the
    invisible format characters (a zero-width space, a byte order mark…) that a copy from a
    chat or a mail program brings along, which would make an address that looks the same as
    another and that nobody can type to sign in. Lower-cased."""
    visible = "".join(c for c in email if unicodedata.category(c) != "Cf")
    return visible.strip().lower()


def normalise_email(email: str) -> str:
    """Lower-cased and checked (``typed_address``); BadAccessInput naming the rule otherwise."""
    address = typed_address(email)
    if len(address) > MAX_EMAIL_LENGTH or not _EMAIL.match(address):
        raise BadAccessInput("not an e-mail address", field="email").coded("access.email_invalid")
    return address


def _display_name(name: str | None, address: str) -> str:
    chosen = (name or "").strip() or address.partition("@")[0]
    if len(chosen) > MAX_NAME_LENGTH:
        raise BadAccessInput(f"at most {MAX_NAME_LENGTH} characters", field="name").coded(
            "access.name_too_long", most=MAX_NAME_LENGTH
        )
    return chosen


def _taken(status: str | None) -> AccountConflict:
    """The refusal of inviting an address that has an account (``status``).

    It says the rule, not the address: the caller typed it and knows it, and an answer that
    repeats what was typed carries it on into logs and error reports (the API's 409, the
    console's page, a proxy's or client's log of either).
    """
    if status == "deactivated":
        # "send the invitation again" would only be refused in turn: say the rule.
        return AccountConflict(
            "this e-mail address belongs to a deactivated account: deactivating is final, "
            "and the address cannot be invited again",
            field="email",
        ).coded("access.email_deactivated")
    return AccountConflict(
        "an account or an open invitation already has this e-mail address; someone invited "
        "who has not accepted yet gets a new link when the invitation is sent again",
        field="email",
    ).coded("access.email_taken")


def _token_name_given(
    given: str, named: TokenRecord, ids: Sequence[str], starting: Sequence[TokenRecord]
) -> BadAccessInput:
    """The refusal of ``given``, the name of token ``named``, where its id was asked for: the
    id to give instead, shortened as ``tokens list`` shows ids (unique among ``ids``, the
    tokens the caller may manage); ``starting``: the other tokens whose id starts with
    ``given``, which a name that is hex too would have revoked."""
    shown = _short_token_id(named.id, ids)
    others = [t for t in starting if t.id != named.id]
    if not others:
        said = f"{given} is the name of token {shown}, not its id: integrator tokens revoke {shown}"
    else:
        count = f"{len(others)} other token{'' if len(others) == 1 else 's'}"
        which = ", ".join(t.name for t in others[: idprefix.MAX_CANDIDATES])
        said = (
            f"{given} is the name of token {shown} and the start of the id of {count} "
            f"({which}): give the id of the one meant, as integrator tokens revoke {shown}"
        )
    return BadAccessInput(said, field="token_id").coded(
        "access.token_name_given", name=given, id=shown
    )


def _short_token_id(token_id: str, ids: Sequence[str]) -> str:
    """``token_id`` cut to the fewest characters (at least 8, as listings show ids) that no
    other of ``ids`` starts with, never ending in a dash."""
    length = 8
    others = [other for other in ids if other != token_id]
    while length < len(token_id) and (
        any(other.startswith(token_id[:length]) for other in others) or token_id[length - 1] == "-"
    ):
        length += 1
    return token_id[:length]


def _token_name_taken() -> AccountConflict:
    """The name is taken: said without the name, which the caller sent (no error echoes)."""
    return AccountConflict(
        "a token with this name exists already (a revoked token keeps its name); choose "
        "another name",
        field="token_name",
    ).coded("access.token_name_taken")


@dataclass(frozen=True, slots=True)
class _CheckedToken:
    """What a token is made with once its inputs passed (``AccessService._checked_token``)."""

    owner_id: str | None
    maker: TokenRecord | None
    expires_at: datetime
    reason: str | None
    now: datetime


def _mail_outcome(link: InvitationLink, failure: MailFailed | None) -> dict[str, str]:
    """What the audit entry says about the mail: sent, failed, or nothing (the link was shown
    to the admin, there being no mail server)."""
    if failure is not None:
        return {"mail": "failed"}
    return {"mail": "sent"} if link.sent else {}


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """``limit`` items of a listing from ``offset`` on, in its order, and ``total``: how many
    it has in all, so a client knows whether to ask for the next page.

    Cut from the whole listing as the caller may see it, after every rule of who sees what,
    so pages stay full and the total true. The listings are short (people and tokens, not
    messages), so they are read whole and cut here rather than in the store. The order is
    total (an address is unique; tokens by creation, then by their unique name), so a page
    asked again with nothing changed in between is the same page."""

    items: tuple[T, ...]
    total: int

    @classmethod
    def of(cls, listing: Sequence[T], *, limit: int, offset: int) -> Page[T]:
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset not negative")
        return cls(tuple(listing[offset : offset + limit]), len(listing))


def _person_target(email: str) -> str:
    return f"person:{email}"


def _token_target(name: str) -> str:
    return f"token:{name}"


def _grant(role: str, cluster: str | None) -> Grant:
    return Grant(Role(role), cluster)


def _refuse_cluster_names(grants: Iterable[Grant]) -> None:
    """Refuse a grant being given for a cluster whose name breaks ``CLUSTER_NAME_RULE`` (the
    rule of a destination's ``cluster``): ``" north "`` would be another cluster than
    ``north`` and see nothing, and a blank one is no cluster (leave it out for all clusters).

    Asked before who may give it, as it depends on the name alone. Never asked of a grant
    being taken away or read back: one stored before the rule must stay removable."""
    for grant in grants:
        if grant.cluster is not None and not is_cluster_name(grant.cluster):
            named = repr(grant.cluster)  # quoted: the spaces are what is wrong with it
            raise BadAccessInput(
                f"the name of cluster {named} {CLUSTER_NAME_RULE} (leave the cluster out for "
                "all clusters)",
                field="cluster",
            ).coded("access.cluster_name", cluster=named)


def _grants(records: Iterable[GrantRecord], *, active: bool) -> list[Grant]:
    """Grants from store rows; a role this code no longer knows grants nothing (fail closed)."""
    known = {role.value for role in Role}
    return list(
        dict.fromkeys(
            Grant(Role(r.role), r.cluster)
            for r in records
            if r.active is active and r.role in known
        )
    )


def _grants_changed() -> BadAccessInput:
    """``set_grants``' refusal of a form drawn from grants that changed since."""
    return BadAccessInput(
        "the roles changed since this page was shown; nothing was saved: look at "
        "them again and make the change anew",
        field="grants",
    ).coded("access.grants_changed")


def _active_records(specs: Iterable[GrantSpec]) -> list[GrantRecord]:
    """Active grants as the store gives them (role, cluster), as records ``_grants`` reads."""
    return [GrantRecord(role=role, cluster=cluster, active=True) for role, cluster in specs]


def _specs(grants: Iterable[Grant]) -> list[tuple[str, str | None]]:
    return [(g.role.value, g.cluster) for g in dict.fromkeys(grants)]


def _sees(by: Identity, grant: Grant) -> bool:
    """Whether an admin sees ``grant``: it reaches into one of the admin's clusters."""
    visible = by.visible_clusters(Permission.PEOPLE_MANAGE)
    if not isinstance(visible, frozenset):
        return True
    return grant.cluster is None or grant.cluster in visible


def _grant_json(grant: Grant) -> dict[str, Any]:
    return {"role": grant.role.value, "cluster": grant.cluster}


def _links_stop(before: Sequence[GrantSpec], after: Sequence[GrantSpec]) -> bool:
    """Whether a change of a person's grants from ``before`` to ``after`` stops their open
    links (:meth:`AccessService.set_grants`): it gives a role that reads patient data beyond
    what they held of it, so a link shown to someone who did not hold it is no longer theirs
    to hold."""
    held = _grants(_active_records(before), active=True)
    return any(not _may_hold(grant, held) for grant in _grants(_active_records(after), active=True))


def _may_hold(grant: Grant, makers: Iterable[Grant]) -> bool:
    """Whether a token may hold ``grant`` next to its maker's grants: a role that reads
    patient data only within a grant of that role the maker holds; any other role, yes."""
    return grant.role not in PATIENT_DATA_ROLES or any(grant.within(m) for m in makers)


def _token_view(
    token: TokenRecord,
    now: datetime,
    by_id: Mapping[str, TokenRecord] | None = None,
    people: Mapping[str, PersonRecord] | None = None,
) -> TokenView:
    """``by_id`` (every token) and ``people`` (those tokens depend on) to tell a token that
    does not work because of whom it depends on (``stopped``) and the grants it may not use."""
    found = None
    if token.revoked_at is not None:
        status = "revoked"
    elif now >= token.expires_at:
        status = "expired"
    elif by_id is not None:
        found = _in_force(token, now, by_id, people or {})
        status = "stopped" if found is None else "active"
    else:
        status = "active"
    return TokenView(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        status=status,
        owner_id=token.owner_id,
        created_by=token.created_by,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        grants=tuple(_grants(token.grants, active=True)),
        maker_token_id=token.maker_token_id,
        suspended=found[1] if found is not None else (),
        maker_person_id=token.maker_person_id,
    )


def _people_of(tokens: Iterable[TokenRecord]) -> set[str]:
    """The people ``tokens`` depend on: their owners and the people who made them."""
    return {
        person_id
        for token in tokens
        for person_id in (token.owner_id, token.maker_person_id)
        if person_id is not None
    }


def _in_force(
    token: TokenRecord,
    now: datetime,
    tokens: Mapping[str, TokenRecord],
    people: Mapping[str, PersonRecord],
) -> tuple[list[Grant], tuple[SuspendedGrant, ...]] | None:
    """THE rule of what a token may do now: the grants it acts with, and those it holds but may
    not use (each with why); None when it does not work at all.

    ``tokens`` holds at least ``token``'s maker chain, ``people`` the people it depends on (a
    missing one counts as holding nothing). The token does not work when it, or any token that
    made it (transitively), is revoked, expired or gone, or it or one of them is a deactivated
    person's own token. Of what it holds:

    - a token of one's own (``owner_id``) acts only with grants its owner holds now;
    - a token made in a person's session (``maker_person_id``: the console) acts with a role
      that reads patient data only within a grant of that role its maker holds now; a
      deactivated maker holds nothing. Its other roles are the maker's to give, and stay;
    - a token made by a token (``maker_token_id``: the API) acts with such a role only where
      its maker acts with it now, so the rule runs down the chain from the first maker;
    - a token made on the server's CLI is bound to nobody.

    Invited again after a reset of their second factor, a person still holds their grants (a
    stolen phone is not a stolen token)."""
    chain: list[TokenRecord] = []
    link: TokenRecord | None = token
    while link is not None:
        stopped = link.revoked_at is not None or now >= link.expires_at
        if stopped or any(earlier.id == link.id for earlier in chain):
            return None
        chain.append(link)
        if link.maker_token_id is None:
            break
        link = tokens.get(link.maker_token_id)
        if link is None:
            return None
    held: list[Grant] | None = None
    suspended: list[SuspendedGrant] = []
    for link in reversed(chain):  # from the first maker to ``token``
        grants = _grants(link.grants, active=True)
        suspended = []
        if link.owner_id is not None:
            owner = people.get(link.owner_id)
            if owner is None or owner.status == "deactivated":
                return None
            owners = _grants(owner.grants, active=True)
            grants = _keep(grants, owners, _owner_lacks, suspended, every_role=True)
        if link.maker_person_id is not None:
            maker = people.get(link.maker_person_id)
            gone = maker is None or maker.status == "deactivated"
            makers = [] if maker is None or gone else _grants(maker.grants, active=True)
            why = _maker_gone if gone else _maker_lacks
            grants = _keep(grants, makers, why, suspended)
        if held is not None:
            grants = _keep(grants, held, _maker_token_lacks, suspended)
        held = grants
    assert held is not None  # the chain holds ``token`` at least
    return _for_all_clusters_only(held, suspended), tuple(suspended)


def _for_all_clusters_only(grants: list[Grant], suspended: list[SuspendedGrant]) -> list[Grant]:
    """Grants of a role that acts for all clusters only (``FOR_ALL_CLUSTERS_ONLY``) given for
    one, before that was refused when given: each goes to ``suspended`` saying why, as it was
    refused at every use anyway, so a token list shows what it cannot do instead of holding
    it in silence."""
    kept = []
    for grant in grants:
        why = FOR_ALL_CLUSTERS_ONLY.get(grant.role)
        if why is None or grant.cluster is None:
            kept.append(grant)
            continue
        rule = f"{grant.role.value} acts for all clusters only ({why}), so {grant} acts nowhere"
        note = Note(rule, "access.token_suspended_one_cluster", grant=str(grant), why=why)
        suspended.append(SuspendedGrant(grant, note))
    return kept


def _keep(
    grants: list[Grant],
    makers: Sequence[Grant],
    why: Callable[[Grant], Note],
    suspended: list[SuspendedGrant],
    *,
    every_role: bool = False,
) -> list[Grant]:
    """The grants that lie within ``makers`` (``every_role``: each grant; else only the roles
    that read patient data, :func:`_may_hold`); each other one goes to ``suspended``, with
    ``why``."""
    kept = []
    for grant in grants:
        if any(grant.within(m) for m in makers) if every_role else _may_hold(grant, makers):
            kept.append(grant)
        else:
            suspended.append(SuspendedGrant(grant, why(grant)))
    return kept


def _where(grant: Grant) -> str:
    return f"cluster {grant.cluster}" if grant.cluster else "all clusters"


_MAKER_RULE: Final = (
    "{role} reads patient data, and a token made in the console or through the API holds it "
    "only where its maker holds it now"
)


def _maker_note(code: str, why: str) -> Callable[[Grant], Note]:
    """The refusal of a grant a token holds but may not use because of its maker: the one rule
    (``_MAKER_RULE``) and ``why`` (``{role}`` and ``{where}`` filled in), coded ``code``."""

    def note(grant: Grant) -> Note:
        role = grant.role.value
        reason = why.format(role=role, where=_where(grant))
        return Note(
            f"{_MAKER_RULE.format(role=role)}: {reason}",
            f"access.token_suspended_{code}",
            grant=str(grant),
            role=role,
        )

    return note


_maker_lacks: Final = _maker_note("maker", "its maker no longer holds {role} for {where}")
_maker_gone: Final = _maker_note("maker_deactivated", "its maker's account is deactivated")
_maker_token_lacks: Final = _maker_note(
    "maker_token", "the token that made it no longer holds {role} for {where}"
)


def _owner_lacks(grant: Grant) -> Note:
    return Note(
        f"a token of one's own holds only what its owner holds, and its owner no longer holds "
        f"{grant}",
        "access.token_suspended_owner",
        grant=str(grant),
    )


def _suspended_since(
    before: Sequence[TokenView], after: Sequence[TokenView]
) -> list[SuspendedToken]:
    """The tokens that worked before a change and still do, with the grants in force before
    that are not now: what a change of a person's access took from the tokens they made."""
    earlier = {view.id: view for view in before if view.status == "active"}
    cut = []
    for view in after:
        was = earlier.get(view.id)
        if was is None or view.status != "active":
            continue
        now_in_force = set(view.in_force)
        lost = tuple(g for g in was.in_force if g not in now_in_force)
        if lost:
            cut.append(SuspendedToken(view, lost))
    return cut


def _suspended_details(cut: Sequence[SuspendedToken]) -> dict[str, Any]:
    """What the audit entry of a change records of the tokens it suspended grants of: how
    many and their ids (never what they read); nothing when it took none."""
    if not cut:
        return {}
    return {
        "tokens_suspended": len(cut),
        "tokens_suspended_ids": [t.token.id for t in cut],
    }


def _machine_tokens_made_by(person: PersonRecord, views: Iterable[TokenView]) -> list[TokenView]:
    """The working machines' tokens made in a session of ``person`` (``maker_person_id``)."""
    return [
        view
        for view in views
        if view.maker_person_id == person.id and view.owner_id is None and view.status == "active"
    ]


def _made_by(token_id: str, views: Sequence[TokenView]) -> list[TokenView]:
    """The working tokens ``token_id`` made, and those they made in turn: what stops with it."""
    children: dict[str, list[TokenView]] = {}
    for view in views:
        if view.maker_token_id is not None:
            children.setdefault(view.maker_token_id, []).append(view)
    found: list[TokenView] = []
    waiting = [token_id]
    seen = {token_id}
    while waiting:
        for child in children.get(waiting.pop(), []):
            if child.id not in seen:
                seen.add(child.id)
                waiting.append(child.id)
                if child.status == "active":
                    found.append(child)
    return found


def _kept_json(token: TokenView, zone: tzinfo | None) -> dict[str, Any]:
    """A machine's token a deactivated person made, as the deactivation's answer lists it."""
    return {
        "id": token.id,
        "name": token.name,
        "grants": [str(g) for g in token.grants],
        "suspended": [str(held.grant) for held in token.suspended],
        "expires_at": iso_time(token.expires_at, zone),
    }


def _reset_pending(person: PersonRecord) -> bool:
    """Invited again after a reset of their second factor: they had accepted an invitation."""
    return person.status == "invited" and person.accepted_before
