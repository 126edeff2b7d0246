"""The store's side of access control: people, grants, API tokens, invitations and sessions.

Kept apart from the message tables' code because it changes for other reasons (who may do what,
not what was sent). The store knows no rules: roles are plain strings here and times are given
by the caller, whose clock decides expiry. What the store does guarantee is that every
"use once" secret is used once: each such step is a compare-and-set ``UPDATE … WHERE`` that
only one of two racing callers can win.

The one secret kept in a form that can be used, a person's TOTP secret (a code can only be
checked with it), is sealed with the data key like the columns with patient data
(``integrator.store.sealing``), bound to its row: ``people.totp_secret`` of the person's id.
``PersonRecord`` carries it as stored; ``open_totp_secret`` opens it where a code is checked,
so a secret that does not open fails that check only, not every read of the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from integrator.store import audit_chain
from integrator.store.failures import guarded
from integrator.store.hot_reads import TokenRows
from integrator.store.sealing import Sealer, aad
from integrator.store.tables import (
    api_tokens,
    grants,
    invitations,
    people,
    recovery_codes,
    sessions,
)

GrantSpec = tuple[str, str | None]
"""A grant as the store sees it: (role, cluster); cluster None means every cluster."""
GrantsPlan = Callable[[Sequence[GrantSpec], str], Sequence[GrantSpec]]
"""``set_person_grants``' ``plan``: given the person's active grants and status as they are in
the change's transaction, the grants to make theirs (or it raises, and nothing is changed)."""
LinksStop = Callable[[Sequence[GrantSpec], Sequence[GrantSpec]], bool]
"""``set_person_grants``' ``stop_links``: given the person's active grants before the change and
after it, in the change's transaction, whether their open links stop working with it."""


@dataclass(frozen=True, slots=True)
class GrantRecord:
    role: str
    cluster: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    email: str
    name: str
    status: str  # invited | active | deactivated
    password_hash: str | None
    totp_stored: str | None
    """The TOTP secret as the store holds it: sealed (``$itg$1$<kid>$…``) when it was written
    under a data key, else plain; ``Store.open_totp_secret`` gives it in the clear. None: no
    second factor set up yet."""
    totp_last_step: int | None
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    deactivated_at: datetime | None
    grants: tuple[GrantRecord, ...]
    accepted_before: bool = False
    """An invitation of theirs was accepted once: an ``invited`` person with this set is
    setting up again after a reset of their second factor, not new."""

    @property
    def active_grants(self) -> list[GrantSpec]:
        return [(g.role, g.cluster) for g in self.grants if g.active]


@dataclass(frozen=True, slots=True)
class NewInvitation:
    id: str
    token_hash: str
    created_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    id: str
    person_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    name: str
    prefix: str
    owner_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    grants: tuple[GrantRecord, ...]
    maker_token_id: str | None = None
    """The token that made this one (through the API), which it depends on; None otherwise."""
    maker_person_id: str | None = None
    """The person in whose console session this one was made; None: the CLI or a token."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """The audit entry of an access change, appended in the change's own transaction: a
    change committed first and audited in a second transaction was left out of the trail by a
    crash or a store error between the two, which docs/access.md promises never happens."""

    actor: str
    action: str
    target: str
    reason: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AccessState:
    """Everyone and every token (with their grants) as a change's transaction reads them."""

    people: tuple[PersonRecord, ...]
    tokens: tuple[TokenRecord, ...]


@dataclass(frozen=True, slots=True)
class Found:
    """What a change's transaction found, for an entry whose details depend on it: the people
    and tokens before the change and after it (what the tokens a person made lost with it is
    told from these), and the grants it added and removed (``set_person_grants`` only)."""

    before: AccessState
    after: AccessState
    added: tuple[GrantSpec, ...] = ()
    removed: tuple[GrantSpec, ...] = ()
    links_stopped: int = 0
    """The person's open invitation or setup links the change stopped (``set_person_grants``'
    ``stop_links``): links that still worked, now refused as a replaced one is."""


EntryOf = Callable[[Found], AuditEntry]
"""Makes a change's audit entry from what its transaction found (or raises: nothing changes)."""
Audit = AuditEntry | EntryOf | None
"""An access change's audit entry, known beforehand or made in its transaction; None: none."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str  # the hash of the session secret
    person_id: str
    two_factor: bool
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    reason: str | None = None
    """Why the person looks at patient data in this session, as they stated it (None: not
    stated); every view and export of the session records it (``integrator.stated_reason``)."""


def _ended_before(before: datetime) -> ColumnElement[bool]:
    """A session signed out or revoked, or else expired, before ``before``."""
    return or_(sessions.c.expires_at < before, sessions.c.revoked_at < before)


class _Refused(Exception):
    """Raised inside a transaction to roll it back when a compare-and-set step lost."""


class _TokenReader(Protocol):
    async def read_token(self, token_hash: str) -> TokenRows: ...


class _StoreParts(Protocol):
    _engine: AsyncEngine
    _sealer: Sealer

    @property
    def _hot(self) -> _TokenReader: ...

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def _bounded_transaction(
        self, operation: str, *, budget_s: float | None = None
    ) -> AbstractAsyncContextManager[AsyncConnection]: ...

    @property
    def schema(self) -> str | None: ...

    def _now(self) -> datetime: ...


TOUCH_WAIT_S: Final = 0.25
"""The longest a request waits to note when its token or console session was last used: the
note is bookkeeping (written again by a later request), and a SQLite store locked by another
process held every API request's authentication, and every console page, for the whole busy
timeout (15 s), where the token or session itself is read off the write path and answers at
once (docs/architecture.md)."""


class PeopleMixin:
    # -- people --------------------------------------------------------------------------------

    @guarded("add a person")
    async def add_person(
        self: _StoreParts,
        person_id: str,
        *,
        email: str,
        name: str,
        grant_specs: Sequence[GrantSpec],
        invitation: NewInvitation,
        audit: AuditEntry | None = None,
    ) -> None:
        """Store an invited person with their grants and invitation, in one transaction (with
        ``audit``, its entry).

        Raises ``Conflict`` (nothing written) when the e-mail address has an account already.
        """
        now = invitation.created_at
        async with self._transaction() as conn:
            await conn.execute(
                insert(people).values(
                    id=person_id,
                    email=email,
                    name=name,
                    status="invited",
                    failed_logins=0,
                    created_at=now,
                )
            )
            await _insert_grants(conn, grant_specs, now, person_id=person_id)
            await _insert_invitation(conn, person_id, invitation)
            await _audited(self, conn, audit, None)

    @guarded("read a person")
    async def get_person(
        self: _StoreParts, *, person_id: str | None = None, email: str | None = None
    ) -> PersonRecord | None:
        """By id or by (lower-cased) e-mail address; with every grant, inactive ones too."""
        if (person_id is None) == (email is None):
            raise ValueError("give exactly one of person_id and email")
        term = people.c.id == person_id if person_id is not None else people.c.email == email
        async with self._engine.connect() as conn:
            found = await _people(conn, term)
        return found[0] if found else None

    @guarded("list people")
    async def list_people(self: _StoreParts) -> list[PersonRecord]:
        """Everyone, by e-mail address."""
        async with self._engine.connect() as conn:
            return await _people(conn, None)

    @guarded("count people")
    async def count_people_with_role(self: _StoreParts, role: str, *, status: str) -> int:
        """People in ``status`` holding an active grant of ``role`` (any cluster)."""
        query = (
            select(func.count(func.distinct(people.c.id)))
            .select_from(people.join(grants, grants.c.person_id == people.c.id))
            .where(people.c.status == status, grants.c.role == role, grants.c.active.is_(True))
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    @guarded("change a person's grants")
    async def set_person_grants(
        self: _StoreParts,
        person_id: str,
        grant_specs: Sequence[GrantSpec],
        *,
        now: datetime,
        plan: GrantsPlan | None = None,
        invitation: NewInvitation | None = None,
        stop_links: LinksStop | None = None,
        audit: Audit = None,
    ) -> tuple[list[GrantSpec], list[GrantSpec]]:
        """Make ``grant_specs`` the person's active grants; returns (added, removed).

        A removed grant stays as an inactive row, so the grants a person once held can be told.

        ``plan``: the grants are decided in this transaction instead, from those the person
        holds in it (``grant_specs`` unused). Two admins changing one person's grants at once
        each read them before either wrote: the second wrote over the first without seeing it
        (a role taken away given back; another cluster's change undone). The person's row is
        written first, so a second change waits for the first's commit (PostgreSQL's row lock,
        SQLite's write lock) and its plan sees what the first made.

        ``invitation``: it replaces the person's open ones, in the same transaction.
        ``stop_links``: when it says so of the grants before and after the change, the person's
        open invitation and setup links that still work are revoked in the same transaction
        (refused from then on as a replaced one is; ``Found.links_stopped`` counts them). A
        link being accepted at the same time waits for this change (``complete_invitation``
        takes the person's row first), so it is either accepted before the change or refused
        after it. ``audit``: the change's entry, appended in its transaction (made from what it
        found, when a function); an entry that cannot be appended undoes the change.
        """
        async with self._transaction() as conn:
            # First statement writes (see Store._transaction): touch the person row.
            status = await _touch_person(conn, person_id)
            if status is None:
                return [], []
            before = await _before(conn, audit)
            rows = await conn.execute(
                select(grants.c.id, grants.c.role, grants.c.cluster).where(
                    grants.c.person_id == person_id, grants.c.active.is_(True)
                )
            )
            current = {(row.role, row.cluster): row.id for row in rows}
            chosen = grant_specs if plan is None else plan(list(current), status)
            wanted = list(dict.fromkeys(chosen))
            removed = [spec for spec in current if spec not in wanted]
            added = [spec for spec in wanted if spec not in current]
            if removed:
                await conn.execute(
                    update(grants)
                    .where(grants.c.id.in_([current[spec] for spec in removed]))
                    .values(active=False)
                )
            await _insert_grants(conn, added, now, person_id=person_id)
            stopped = 0
            if stop_links is not None and stop_links(list(current), wanted):
                revoked = await conn.execute(
                    update(invitations)
                    .where(
                        invitations.c.person_id == person_id,
                        _open_invitation(),
                        invitations.c.expires_at > now,
                    )
                    .values(revoked_at=now)
                )
                stopped = int(revoked.rowcount)
            if invitation is not None:
                await _swap_invitation(conn, person_id, invitation)
            await _audited(self, conn, audit, before, added, removed, stopped)
        return added, removed

    @guarded("change a person's grants")
    async def deactivate_grant(
        self: _StoreParts,
        person_id: str,
        role: str,
        cluster: str | None,
        *,
        audit: Audit = None,
    ) -> bool:
        """Switch off one active grant, with ``audit`` in the same transaction; False, writing
        nothing, when the person holds no such grant."""
        try:
            async with self._transaction() as conn:
                # First statement writes (see Store._transaction), and it takes the person's
                # row as ``set_person_grants`` does: a grants change waits for this one.
                await _touch_person(conn, person_id)
                before = await _before(conn, audit)
                result = await conn.execute(
                    update(grants)
                    .where(
                        grants.c.person_id == person_id,
                        grants.c.role == role,
                        _cluster_is(cluster),
                        grants.c.active.is_(True),
                    )
                    .values(active=False)
                )
                if not result.rowcount:
                    raise _Refused
                await _audited(self, conn, audit, before)
        except _Refused:
            return False
        return True

    @guarded("deactivate a person")
    async def deactivate_person(
        self: _StoreParts, person_id: str, *, now: datetime, audit: Audit = None
    ) -> bool:
        """Deactivate the account and, in the same transaction, end everything it opened
        (and append ``audit``).

        Its sessions, open invitations and own tokens are revoked, so nothing it held keeps
        working; the authenticate calls check the person's status as well. False when the
        account was deactivated already (or does not exist).
        """
        async with self._transaction() as conn:
            # First statement writes (see Store._transaction): the person's row, so what is
            # read as "before" is before this change and no other change of theirs comes in.
            if await _touch_person(conn, person_id) in (None, "deactivated"):
                return False
            before = await _before(conn, audit)
            result = await conn.execute(
                update(people)
                .where(people.c.id == person_id, people.c.status != "deactivated")
                .values(status="deactivated", deactivated_at=now)
            )
            if result.rowcount == 0:
                return False
            await conn.execute(
                update(sessions)
                .where(sessions.c.person_id == person_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await conn.execute(
                update(invitations)
                .where(invitations.c.person_id == person_id, _open_invitation())
                .values(revoked_at=now)
            )
            await conn.execute(
                update(api_tokens)
                .where(api_tokens.c.owner_id == person_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await _audited(self, conn, audit, before)
        return True

    @guarded("reset a second factor")
    async def reset_second_factor(
        self: _StoreParts, person_id: str, invitation: NewInvitation, *, seen_since: datetime
    ) -> tuple[int, int] | None:
        """Take an active person's sign-in credentials away and add a setup link, all at once.

        The TOTP secret, the password and the unused recovery codes stop working and every
        open session ends, in the same transaction as the person becomes ``invited`` again with
        ``invitation`` (their grants and own tokens stay). Returns (sessions that still worked:
        not expired and seen since ``seen_since``, the idle limit; recovery codes retired);
        None, writing nothing, when the person is not active (any more).
        """
        now = invitation.created_at
        async with self._transaction() as conn:
            result = await conn.execute(
                update(people)
                .where(people.c.id == person_id, people.c.status == "active")
                .values(
                    status="invited",
                    password_hash=None,
                    totp_secret=None,
                    totp_last_step=None,
                )
            )
            if result.rowcount == 0:
                return None
            # Counted: those that still worked. An expired or idle one is ended all the same.
            working = await conn.scalar(
                select(func.count())
                .select_from(sessions)
                .where(
                    sessions.c.person_id == person_id,
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > now,
                    sessions.c.last_seen_at >= seen_since,
                )
            )
            await conn.execute(
                update(sessions)
                .where(sessions.c.person_id == person_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            retired = await conn.execute(
                update(recovery_codes)
                .where(recovery_codes.c.person_id == person_id, recovery_codes.c.used_at.is_(None))
                .values(used_at=now)
            )
            await conn.execute(
                update(invitations)
                .where(invitations.c.person_id == person_id, _open_invitation())
                .values(revoked_at=now)
            )
            await _insert_invitation(conn, person_id, invitation)
        return int(working or 0), int(retired.rowcount)

    # -- invitations ---------------------------------------------------------------------------

    @guarded("invite a person")
    async def replace_invitation(
        self: _StoreParts,
        person_id: str,
        invitation: NewInvitation,
        *,
        audit: AuditEntry | None = None,
    ) -> None:
        """Revoke the person's open invitations and add ``invitation`` (and ``audit``), in one
        transaction."""
        async with self._transaction() as conn:
            await _swap_invitation(conn, person_id, invitation)
            await _audited(self, conn, audit, None)

    @guarded("read invitations")
    async def open_invitations(self: _StoreParts) -> dict[str, datetime]:
        """When each person's link that is neither used nor replaced expires (a past time: it
        has expired), by person id: what an admin needs to tell "not accepted yet" from "the
        link no longer works". Sending again replaces the link, so each has one at most."""
        query = (
            select(invitations.c.person_id, func.max(invitations.c.expires_at))
            .where(invitations.c.used_at.is_(None), invitations.c.revoked_at.is_(None))
            .group_by(invitations.c.person_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row[0]: row[1] for row in rows}

    @guarded("read an invitation")
    async def find_invitation(self: _StoreParts, token_hash: str) -> InvitationRecord | None:
        query = select(invitations).where(invitations.c.token_hash == token_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _invitation(row)

    @guarded("set up a second factor")
    async def set_pending_totp_secret(
        self: _StoreParts, person_id: str, secret: str, *, audit: AuditEntry | None = None
    ) -> bool:
        """Keep the TOTP secret shown to an invited person until they confirm it with a code
        (with ``audit`` in the same transaction); False, writing nothing, when not invited.

        Sealed with the current data key when one is configured, else stored as given.
        """
        stored = self._sealer.seal_text(secret, totp_aad(person_id))
        async with self._transaction() as conn:
            result = await conn.execute(
                update(people)
                .where(people.c.id == person_id, people.c.status == "invited")
                .values(totp_secret=stored, totp_last_step=None)
            )
            if not result.rowcount:
                return False
            await _audited(self, conn, audit, None)
            return True

    def open_totp_secret(self: _StoreParts, person: PersonRecord) -> str | None:
        """The person's TOTP secret in the clear, to check a code with; None when none is set.

        A plain stored secret (written before a data key was configured) is returned as it is.
        A sealed one that does not open raises ``TamperedValue`` (changed, moved from another
        person's row, or a wrong key under its id) or ``UnknownDataKey``; their messages name
        the column, the person's id and the key id, never the secret.
        """
        if person.totp_stored is None:
            return None
        return self._sealer.open_text(person.totp_stored, totp_aad(person.id))

    @guarded("accept an invitation")
    async def complete_invitation(
        self: _StoreParts,
        invitation_id: str,
        person_id: str,
        *,
        password_hash: str,
        totp_step: int,
        recovery_code_hashes: Sequence[str],
        now: datetime,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Use the invitation and activate the person, all or nothing (``audit`` with them).

        False, writing nothing, when the invitation was used, revoked or expired meanwhile, or
        the person is no longer invited: a link works once, even when two tabs race. Every
        session the person has is ended: one opened on the credentials a second-factor reset
        took away, by a sign-in that overlapped the reset, must not come back to life now.
        """
        try:
            async with self._transaction() as conn:
                # First statement writes (see Store._transaction): the person's row, so a
                # change of their grants that stops their links (``set_person_grants``) is
                # either wholly before this or wholly after it, never interleaved.
                if await _touch_person(conn, person_id) != "invited":
                    raise _Refused
                used = await conn.execute(
                    update(invitations)
                    .where(
                        invitations.c.id == invitation_id,
                        invitations.c.person_id == person_id,
                        _open_invitation(),
                        invitations.c.expires_at > now,
                    )
                    .values(used_at=now)
                )
                if used.rowcount != 1:
                    raise _Refused
                activated = await conn.execute(
                    update(people)
                    .where(people.c.id == person_id, people.c.status == "invited")
                    .values(
                        status="active",
                        password_hash=password_hash,
                        totp_last_step=totp_step,
                        failed_logins=0,
                        locked_until=None,
                    )
                )
                if activated.rowcount != 1:
                    raise _Refused
                await conn.execute(
                    update(sessions)
                    .where(sessions.c.person_id == person_id, sessions.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                await _replace_recovery_codes(conn, person_id, recovery_code_hashes, now)
                await _audited(self, conn, audit, None)
        except _Refused:
            return False
        return True

    # -- logging in ----------------------------------------------------------------------------

    @guarded("reserve a login attempt")
    async def reserve_login_attempt(
        self: _StoreParts,
        person_id: str,
        *,
        now: datetime,
        max_failures: int,
        lock_until: datetime,
    ) -> int | None:
        """Count a login attempt as failed before it is checked; None when the account is
        locked at ``now`` (or unknown), and then nothing is counted, or when the count passed
        the limit (lowered meanwhile), and then it locks.

        Counting first is what makes the lockout hold under concurrency: were the count read
        when a request starts and raised after its check, every attempt already in flight
        would be checked, however many. The increment is one ``UPDATE … WHERE not locked …
        RETURNING``, so of racing attempts each gets its own number. The attempt numbered
        ``max_failures`` locks the account until ``lock_until`` in the same transaction
        (the count starts again from 0), so every later attempt is refused unchecked until
        then, while that last one is still checked; a success clears the lock and the count
        (:meth:`record_login_success`), a failure leaves both as they are. On PostgreSQL a
        racing ``UPDATE`` waits for this transaction's row lock and then sees the lock; SQLite
        has one writer. Returns the attempt's number (1 to ``max_failures``)."""
        async with self._transaction() as conn:
            counted = await conn.execute(
                update(people)
                .where(
                    people.c.id == person_id,
                    or_(people.c.locked_until.is_(None), people.c.locked_until <= now),
                )
                .values(failed_logins=people.c.failed_logins + 1)
                .returning(people.c.failed_logins)
            )
            attempt = counted.scalar_one_or_none()
            if attempt is None:
                return None
            if attempt >= max_failures:
                await conn.execute(
                    update(people)
                    .where(people.c.id == person_id)
                    .values(failed_logins=0, locked_until=lock_until)
                )
            # Beyond the limit only when it was lowered with failures counted: lock, unchecked.
            return attempt if attempt <= max_failures else None

    @guarded("record a login")
    async def record_login_success(self: _StoreParts, person_id: str) -> None:
        """A login passed: its attempt, counted as failed when reserved, and any lock that
        attempt set (:meth:`reserve_login_attempt`) are taken back."""
        async with self._transaction() as conn:
            await conn.execute(
                update(people)
                .where(people.c.id == person_id)
                .values(failed_logins=0, locked_until=None)
            )

    @guarded("record a second factor")
    async def claim_totp_step(self: _StoreParts, person_id: str, step: int) -> bool:
        """Record ``step`` as used; False when it (or a later one) was used already."""
        async with self._transaction() as conn:
            result = await conn.execute(
                update(people)
                .where(
                    people.c.id == person_id,
                    or_(people.c.totp_last_step.is_(None), people.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            return bool(result.rowcount)

    @guarded("use a recovery code")
    async def use_recovery_code(
        self: _StoreParts, person_id: str, code_hash: str, *, now: datetime
    ) -> bool:
        """Mark the code used; False when the person has no such unused code."""
        async with self._transaction() as conn:
            result = await conn.execute(
                update(recovery_codes)
                .where(
                    recovery_codes.c.person_id == person_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return bool(result.rowcount)

    @guarded("count recovery codes")
    async def unused_recovery_codes(self: _StoreParts, person_id: str) -> int:
        query = select(func.count()).where(
            recovery_codes.c.person_id == person_id, recovery_codes.c.used_at.is_(None)
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    @guarded("store a password hash")
    async def set_password_hash(self: _StoreParts, person_id: str, password_hash: str) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                update(people).where(people.c.id == person_id).values(password_hash=password_hash)
            )

    # -- sessions ------------------------------------------------------------------------------

    @guarded("open a session")
    async def add_session(self: _StoreParts, session: SessionRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                insert(sessions).values(
                    id=session.id,
                    person_id=session.person_id,
                    two_factor=session.two_factor,
                    created_at=session.created_at,
                    last_seen_at=session.last_seen_at,
                    expires_at=session.expires_at,
                    revoked_at=session.revoked_at,
                    reason=session.reason,
                )
            )

    @guarded("read a session")
    async def get_session(self: _StoreParts, session_hash: str) -> SessionRecord | None:
        query = select(sessions).where(sessions.c.id == session_hash)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _session(row)

    @guarded("touch a session")
    async def touch_session(
        self: _StoreParts,
        session_hash: str,
        *,
        now: datetime,
        seen_before: datetime,
        bookkeeping: bool = False,
    ) -> bool:
        """Move ``last_seen_at`` to ``now`` unless it is later than ``seen_before`` already.
        ``bookkeeping``: a note a later request writes again (a page's request, not the person's
        "keep me signed in"), so it waits ``TOUCH_WAIT_S`` at most, as a token's use does."""
        wait = TOUCH_WAIT_S if bookkeeping else None
        async with self._bounded_transaction("note a session's use", budget_s=wait) as conn:
            result = await conn.execute(
                update(sessions)
                .where(sessions.c.id == session_hash, sessions.c.last_seen_at <= seen_before)
                .values(last_seen_at=now)
            )
            return bool(result.rowcount)

    @guarded("state a session's reason")
    async def set_session_reason(self: _StoreParts, session_hash: str, reason: str | None) -> bool:
        """Set (None: clear) the reason of a session not signed out; whether it was one."""
        async with self._transaction() as conn:
            result = await conn.execute(
                update(sessions)
                .where(sessions.c.id == session_hash, sessions.c.revoked_at.is_(None))
                .values(reason=reason)
            )
            return bool(result.rowcount)

    @guarded("end a session")
    async def revoke_session(self: _StoreParts, session_hash: str, *, now: datetime) -> bool:
        async with self._transaction() as conn:
            result = await conn.execute(
                update(sessions)
                .where(sessions.c.id == session_hash, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return bool(result.rowcount)

    # The daily prune (``integrator.lifecycle.prune``) deletes the sessions that ended long
    # ago: a row whose sign-out or revocation, or else its expiry, is before ``before``. A
    # session that went idle ended earlier than its expiry, but when depends on the idle limit
    # at the time it is read; its expiry (at most ``session_lifetime`` after the sign-in) is
    # fixed, so it is counted from there. A live session has neither before ``now``.

    @guarded("count ended sessions")
    async def count_ended_sessions(self: _StoreParts, *, before: datetime) -> int:
        query = select(func.count()).select_from(sessions).where(_ended_before(before))
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    @guarded("find ended sessions")
    async def ended_sessions(
        self: _StoreParts, *, before: datetime, after_id: str, limit: int
    ) -> list[str]:
        """The ids of sessions that ended before ``before``, in id order after ``after_id``
        (the key a batch continues after): the primary key's order, no other index needed."""
        query = (
            select(sessions.c.id)
            .where(sessions.c.id > after_id, _ended_before(before))
            .order_by(sessions.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    @guarded("delete ended sessions")
    async def delete_ended_sessions(
        self: _StoreParts, session_ids: Sequence[str], *, before: datetime
    ) -> int:
        """Delete these sessions, each only if it still ended before ``before``; how many."""
        if not session_ids:
            return 0
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(sessions).where(sessions.c.id.in_(session_ids), _ended_before(before))
            )
            return int(result.rowcount)

    # -- API tokens ----------------------------------------------------------------------------

    @guarded("create a token")
    async def add_token(
        self: _StoreParts,
        token_id: str,
        *,
        name: str,
        token_hash: str,
        prefix: str,
        owner_id: str | None,
        created_by: str,
        created_at: datetime,
        expires_at: datetime,
        grant_specs: Sequence[GrantSpec],
        maker_token_id: str | None = None,
        maker_person_id: str | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Store a token and its grants (and ``audit``); ``Conflict`` when the name is taken."""
        async with self._transaction() as conn:
            await conn.execute(
                insert(api_tokens).values(
                    id=token_id,
                    name=name,
                    token_hash=token_hash,
                    prefix=prefix,
                    owner_id=owner_id,
                    created_by=created_by,
                    created_at=created_at,
                    expires_at=expires_at,
                    maker_token_id=maker_token_id,
                    maker_person_id=maker_person_id,
                )
            )
            await _insert_grants(conn, grant_specs, created_at, token_id=token_id)
            await _audited(self, conn, audit, None)

    @guarded("read a token")
    async def get_token(
        self: _StoreParts, *, token_id: str | None = None, token_hash: str | None = None
    ) -> TokenRecord | None:
        if (token_id is None) == (token_hash is None):
            raise ValueError("give exactly one of token_id and token_hash")
        if token_hash is not None:  # every API request: on the hot paths' connection
            rows, held = await self._hot.read_token(token_hash)
            if not rows:
                return None
            grant_records = [GrantRecord(r["role"], r["cluster"], bool(r["active"])) for r in held]
            return _token_record(rows[0], grant_records)
        async with self._engine.connect() as conn:
            found = await _tokens(conn, api_tokens.c.id == token_id)
        return found[0] if found else None

    @guarded("list tokens")
    async def list_tokens(self: _StoreParts) -> list[TokenRecord]:
        """Every token, revoked and expired ones too, newest first."""
        async with self._engine.connect() as conn:
            return await _tokens(conn, None)

    @guarded("revoke a token")
    async def revoke_token(
        self: _StoreParts, token_id: str, *, now: datetime, audit: Audit = None
    ) -> bool:
        """Revoke the token, with ``audit`` in the same transaction; False, writing nothing,
        when there is no such token or it was revoked already. The row is taken first (the
        first statement writes: Store._transaction), so "before" is read before the revocation
        (the tokens it made still working) and a second revocation waits and then finds none.
        """
        async with self._transaction() as conn:
            taken = await conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(id=api_tokens.c.id)
            )
            if not taken.rowcount:
                return False
            before = await _before(conn, audit)
            await conn.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now)
            )
            await _audited(self, conn, audit, before)
            return True

    @guarded("touch a token")
    async def touch_token(
        self: _StoreParts, token_id: str, *, now: datetime, used_before: datetime
    ) -> bool:
        """Set ``last_used_at`` to ``now`` unless it was set later than ``used_before``;
        ``StoreUnavailable`` after ``TOUCH_WAIT_S`` while the store's write lock is held."""
        async with self._bounded_transaction("note a token's use", budget_s=TOUCH_WAIT_S) as conn:
            result = await conn.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.id == token_id,
                    or_(
                        api_tokens.c.last_used_at.is_(None),
                        api_tokens.c.last_used_at <= used_before,
                    ),
                )
                .values(last_used_at=now)
            )
            return bool(result.rowcount)


# -- helpers ---------------------------------------------------------------------------------


def totp_aad(person_id: str) -> bytes:
    """What a TOTP secret is sealed to: its column and its person (``rotation`` uses the same)."""
    return aad("people", "totp_secret", person_id)


def _cluster_is(cluster: str | None) -> ColumnElement[bool]:
    return grants.c.cluster.is_(None) if cluster is None else grants.c.cluster == cluster


def _open_invitation() -> ColumnElement[bool]:
    return and_(invitations.c.used_at.is_(None), invitations.c.revoked_at.is_(None))


async def _insert_grants(
    conn: AsyncConnection,
    grant_specs: Iterable[GrantSpec],
    now: datetime,
    *,
    person_id: str | None = None,
    token_id: str | None = None,
) -> None:
    rows = [
        {
            "person_id": person_id,
            "token_id": token_id,
            "role": role,
            "cluster": cluster,
            "active": True,
            "created_at": now,
        }
        for role, cluster in dict.fromkeys(grant_specs)
    ]
    if rows:
        await conn.execute(insert(grants), rows)


async def _touch_person(conn: AsyncConnection, person_id: str) -> str | None:
    """Write the person's row as it is (taking its lock); their status, None: nobody."""
    touched = await conn.execute(
        update(people)
        .where(people.c.id == person_id)
        .values(id=people.c.id)
        .returning(people.c.status)
    )
    status: str | None = touched.scalar()
    return status


async def _state(conn: AsyncConnection) -> AccessState:
    return AccessState(tuple(await _people(conn, None)), tuple(await _tokens(conn, None)))


async def _before(conn: AsyncConnection, audit: Audit) -> AccessState | None:
    """The people and tokens before the change, when its entry is made from what it found."""
    if audit is None or isinstance(audit, AuditEntry):
        return None
    return await _state(conn)


async def _audited(
    store: _StoreParts,
    conn: AsyncConnection,
    audit: Audit,
    before: AccessState | None,
    added: Sequence[GrantSpec] = (),
    removed: Sequence[GrantSpec] = (),
    links_stopped: int = 0,
) -> None:
    """Append the change's entry in its transaction (made from what it found, when a function:
    the state ``before`` and as it is now). ``append_audit`` is looked up on its module at each
    call, so a test can make the append fail there and see the change undone with it."""
    if audit is None:
        return
    if isinstance(audit, AuditEntry):
        entry = audit
    else:
        assert before is not None  # read by ``_before`` for an entry made from what was found
        after = await _state(conn)
        entry = audit(Found(before, after, tuple(added), tuple(removed), links_stopped))
    row = audit_chain.audit_row(
        store._now(),
        entry.actor,
        entry.action,
        entry.target,
        reason=entry.reason,
        details=entry.details,
    )
    await audit_chain.append_audit(conn, [row], schema=store.schema)


async def _swap_invitation(
    conn: AsyncConnection, person_id: str, invitation: NewInvitation
) -> None:
    """Revoke the person's open invitations and add ``invitation``."""
    await conn.execute(
        update(invitations)
        .where(invitations.c.person_id == person_id, _open_invitation())
        .values(revoked_at=invitation.created_at)
    )
    await _insert_invitation(conn, person_id, invitation)


async def _insert_invitation(
    conn: AsyncConnection, person_id: str, invitation: NewInvitation
) -> None:
    await conn.execute(
        insert(invitations).values(
            id=invitation.id,
            person_id=person_id,
            token_hash=invitation.token_hash,
            created_by=invitation.created_by,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )
    )


async def _replace_recovery_codes(
    conn: AsyncConnection, person_id: str, code_hashes: Sequence[str], now: datetime
) -> None:
    """Retire the person's unused codes and store new ones: only the latest set works."""
    await conn.execute(
        update(recovery_codes)
        .where(recovery_codes.c.person_id == person_id, recovery_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    if code_hashes:
        await conn.execute(
            insert(recovery_codes),
            [{"person_id": person_id, "code_hash": h, "created_at": now} for h in code_hashes],
        )


async def _grants_by(
    conn: AsyncConnection, column: Any, ids: Sequence[str]
) -> dict[str, list[GrantRecord]]:
    found: dict[str, list[GrantRecord]] = {}
    if not ids:
        return found
    rows = await conn.execute(
        select(column, grants.c.role, grants.c.cluster, grants.c.active)
        .where(column.in_(ids))
        .order_by(grants.c.id)
    )
    for holder, role, cluster, active in rows:
        found.setdefault(holder, []).append(GrantRecord(role, cluster, bool(active)))
    return found


async def _people(conn: AsyncConnection, term: ColumnElement[bool] | None) -> list[PersonRecord]:
    accepted = (
        select(invitations.c.id)
        .where(invitations.c.person_id == people.c.id, invitations.c.used_at.is_not(None))
        .exists()
        .label("accepted_before")
    )
    query = select(people, accepted).order_by(people.c.email)
    if term is not None:
        query = query.where(term)
    rows = list(await conn.execute(query))
    held = await _grants_by(conn, grants.c.person_id, [row.id for row in rows])
    return [
        PersonRecord(
            id=row.id,
            email=row.email,
            name=row.name,
            status=row.status,
            password_hash=row.password_hash,
            totp_stored=row.totp_secret,
            totp_last_step=row.totp_last_step,
            failed_logins=row.failed_logins,
            locked_until=row.locked_until,
            created_at=row.created_at,
            deactivated_at=row.deactivated_at,
            grants=tuple(held.get(row.id, [])),
            accepted_before=bool(row.accepted_before),
        )
        for row in rows
    ]


async def _tokens(conn: AsyncConnection, term: ColumnElement[bool] | None) -> list[TokenRecord]:
    query = select(api_tokens).order_by(api_tokens.c.created_at.desc(), api_tokens.c.name)
    if term is not None:
        query = query.where(term)
    rows = list(await conn.execute(query))
    held = await _grants_by(conn, grants.c.token_id, [row.id for row in rows])
    return [_token_record(row._mapping, held.get(row.id, [])) for row in rows]


def _token_record(row: Mapping[str, Any] | RowMapping, held: Sequence[GrantRecord]) -> TokenRecord:
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        owner_id=row["owner_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        grants=tuple(held),
        maker_token_id=row["maker_token_id"],
        maker_person_id=row["maker_person_id"],
    )


def _invitation(row: Any) -> InvitationRecord:
    return InvitationRecord(
        id=row.id,
        person_id=row.person_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        person_id=row.person_id,
        two_factor=bool(row.two_factor),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        reason=row.reason,
    )
