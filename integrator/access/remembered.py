"""The scrape's token, remembered, so ``/metrics`` still answers while the store is down.

Prometheus scrapes with an API token, and a token is checked in the store. With the store down
that check failed, ``/metrics`` answered 503, and Prometheus only saw the engine as down
(``IntegratorEngineDown``): never the ``integrator_store_up 0`` the scrape says when it cannot
read the store, on which ``IntegratorStoreDown`` alerts. So the engine remembers, in memory and
per engine, what the last check of a token that may read the metrics found, and the scrape
answers from it while the store cannot be asked.

The rule:

- after each check that finds a token working and holding ``metrics.read`` for all clusters,
  the engine keeps, under the token's SHA-256 hash (never the token), the identity and its
  grants as the check found them, with the time of the check and when the token expires;
- each check that finds the token not working (unknown, revoked, expired, its owner
  deactivated, its maker stopped) or no longer holding ``metrics.read`` forgets it at once;
- only when the store answers a check with ``StoreUnavailable`` (down, gone, locked, timed
  out), and only for the metrics permission, which only ``GET /metrics`` declares, the
  identity kept is the answer: if the check it comes from is at most :data:`REMEMBERED_FOR`
  old and the token has not expired since. Otherwise the failure stands (503), as for every
  other route and every other token;
- at most :data:`MOST_REMEMBERED` tokens are kept (a Prometheus pair needs one or two); past
  that, the one checked longest ago goes.

Every check also says when the token expires, and tells the log of a token that is refused
or expires soon (``integrator.access.token_notices``), from what it reads here anyway.

Revocation, weighed: a token revoked before the outage is refused during it when a check ran
after the revocation, as Prometheus's next scrape is (every 15 to 60 s). A token revoked less
than a scrape interval before the store went down still reads the metrics until
:data:`REMEMBERED_FOR` after its last check, and no longer: the metrics hold no patient data,
and an operator paged for the store sees it at once instead of an engine "down".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from integrator.access.permissions import Identity, Permission
from integrator.access.token_notices import TokenNotices
from integrator.access.tokens import hash_secret
from integrator.logging import get_logger
from integrator.store import Store, StoreUnavailable

if TYPE_CHECKING:
    from integrator.access.service import AccessService

log = get_logger("integrator.access")

REMEMBERED_FOR: Final = timedelta(minutes=15)
"""How long after its last successful check a token may still read the metrics while the store
is down: long enough for ``IntegratorStoreDown`` (``for: 2m``) to fire and the page to be
answered, short enough that a token revoked just before an outage is not honoured for long.
After it, the scrape answers 503 again and ``IntegratorEngineDown`` takes over."""

MOST_REMEMBERED: Final = 16
"""How many tokens are remembered at most."""

REMEMBERED_PERMISSION: Final = Permission.METRICS_READ
"""The one permission answered from memory; ``GET /metrics`` is the one route declaring it."""


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """A token's check: its identity (None: it does not work) and when it expires (None: not
    known now, the store did not answer when it was to be read)."""

    identity: Identity | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Checked:
    identity: Identity
    checked_at: datetime
    expires_at: datetime
    recalled: bool = False  # answered from memory since this check: said once, not per scrape


class RememberedTokens:
    """Token checks through the access service, the scrape's remembered (module docstring)."""

    def __init__(
        self,
        access: AccessService,
        store: Store,
        now: Callable[[], datetime],
        *,
        remember_for: timedelta = REMEMBERED_FOR,
        most: int = MOST_REMEMBERED,
    ) -> None:
        self._access = access
        self._store = store
        self._now = now
        self._for = remember_for
        self._most = most
        self._checked: OrderedDict[str, _Checked] = OrderedDict()
        self.notices = TokenNotices(store, now)
        """What is told of a token's use besides its answer (``token_notices``)."""

    async def authenticate(self, raw: str, permission: Permission | None) -> Identity | None:
        """``AccessService.authenticate_token(raw)`` for a request needing ``permission``; its
        ``StoreUnavailable`` is answered from memory for :data:`REMEMBERED_PERMISSION` only."""
        return (await self.check(raw, permission)).identity

    async def check(self, raw: str, permission: Permission | None) -> TokenCheck:
        """:meth:`authenticate`, with when the token expires, and the token's use or refusal
        told in the log as ``integrator.access.token_notices`` says."""
        key = hash_secret(raw)
        try:
            identity = await self._access.authenticate_token(raw)
        except StoreUnavailable:
            remembered = self._recall(key, permission)
            if remembered is None:
                raise
            return TokenCheck(remembered, self._checked[key].expires_at)
        if identity is None:
            await self.notices.refused(raw)
            await self._note(key, None)
            return TokenCheck(None, None)
        expires_at = await self.notices.used(key, identity)
        await self._note(key, identity)
        return TokenCheck(identity, expires_at)

    def _recall(self, key: str, permission: Permission | None) -> Identity | None:
        known = self._checked.get(key)
        if permission is not REMEMBERED_PERMISSION or known is None:
            return None
        now = self._now()
        if now >= known.checked_at + self._for or now >= known.expires_at:
            return None
        if not known.recalled:
            log.warning(
                "the store is unavailable; the scrape's token is taken as last checked",
                token=known.identity.display,
                checked_at=known.checked_at.isoformat(),
                until=min(known.checked_at + self._for, known.expires_at).isoformat(),
            )
            self._checked[key] = _Checked(
                known.identity, known.checked_at, known.expires_at, recalled=True
            )
        return known.identity

    async def _note(self, key: str, identity: Identity | None) -> None:
        if identity is None or not identity.may(REMEMBERED_PERMISSION):
            self._checked.pop(key, None)
            return
        known = self._checked.get(key)
        expires_at = known.expires_at if known is not None else await self._expiry(key)
        if expires_at is None:
            return
        self._checked[key] = _Checked(identity, self._now(), expires_at)
        self._checked.move_to_end(key)
        while len(self._checked) > self._most:
            self._checked.popitem(last=False)

    async def _expiry(self, key: str) -> datetime | None:
        """When the token expires, read once (it never changes; ``TokenNotices.expiry`` keeps
        it); None when the store stopped answering since its check."""
        return await self.notices.expiry(key)
