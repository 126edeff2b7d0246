"""A token that stopped working, or soon will: said in the log and in a header, never in a 401.

A token expires (90 days by default), and an intake token that did so was only found out by its
upstream system's 401, whose sentence read like "you sent no token", while the engine logged
nothing. The 401 stays one answer for every token that does not work (missing, unknown,
expired, revoked, its owner deactivated): it must not tell a stranger holding an old token
which it is. What is said instead goes to those who run the engine and the system:

- **refused**: a request with a token the store knows, that no longer works, gets a WARNING
  ``API token refused`` naming the token as the audit trail does (``token:NAME``) and why
  (``expired``, ``revoked``, ``owner deactivated``, or ``maker stopped``: a token or person
  it depends on no longer works). At most once per token per :data:`REFUSED_EVERY`: an
  upstream system retries every few seconds. An unknown token (a typo, a stranger's guess)
  is not named, there is nothing to name; its lookup too is made at most once per
  :data:`REFUSED_EVERY`;
- **expiring**: a request with a token that expires within :data:`EXPIRES_SOON` gets a WARNING
  ``API token expires soon``, naming it, when, and what to do (``integrator tokens create`` a
  successor and switch over), at most once per token per :data:`EXPIRING_EVERY`;
- **when**: every answer to a request whose token worked says when that token expires
  (``X-Integrator-Token-Expires``, ``integrator.http.auth``), so a client can warn its own
  operators long before.

Never the token itself, nor its hash, in a line. On the hot path it costs a lookup in memory:
a token's expiry never changes, so it is read once per token and process (an indexed read by
the token's hash, as the check itself) and kept, for at most :data:`MOST_KEPT` tokens.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from integrator.access.permissions import Identity
from integrator.access.tokens import hash_secret, looks_like_token
from integrator.logging import get_logger
from integrator.store import Store, StoreUnavailable
from integrator.store.people import TokenRecord

log = get_logger("integrator.access")

EXPIRES_SOON: Final = timedelta(days=14)
"""How long before its expiry a token's use is told in the log: two weeks leave time to make
its successor, hand it to the upstream system's people and have it deployed."""

EXPIRING_EVERY: Final = timedelta(days=1)
"""How often an expiring token's use is told, at most."""

REFUSED_EVERY: Final = timedelta(hours=1)
"""How often a refused token is told (and an unknown one looked up), at most."""

MOST_KEPT: Final = 1024
"""How many tokens' expiries and last notices are kept at most (the oldest go first)."""

SUCCESSOR: Final = (
    "make its successor with `integrator tokens create` (or POST /api/v1/tokens), give it to "
    "the system that uses this one, then revoke this one"
)


class TokenNotices:
    """The notices of the module's description, for one engine's store."""

    def __init__(self, store: Store, now: Callable[[], datetime], *, most: int = MOST_KEPT) -> None:
        self._store = store
        self._now = now
        self._most = most
        self._expiries: OrderedDict[str, datetime] = OrderedDict()
        self._expiring_told: OrderedDict[str, datetime] = OrderedDict()
        self._refused_told: OrderedDict[str, datetime] = OrderedDict()

    def known_expiry(self, key: str) -> datetime | None:
        """When the token of hash ``key`` expires, if read before; never reads the store."""
        return self._expiries.get(key)

    async def expiry(self, key: str) -> datetime | None:
        """When the token of hash ``key`` expires: read once, then kept (it never changes);
        None when there is no such token, or the store does not answer now."""
        known = self._expiries.get(key)
        if known is not None:
            return known
        try:
            token = await self._store.get_token(token_hash=key)
        except StoreUnavailable:
            return None
        if token is None:
            return None
        self._keep(self._expiries, key, token.expires_at)
        return token.expires_at

    async def used(self, key: str, identity: Identity) -> datetime | None:
        """A request's token of hash ``key`` worked, as ``identity``: when it expires (None
        when that cannot be read now), told in the log when that is soon."""
        expires_at = await self.expiry(key)
        if expires_at is None:
            return None
        now = self._now()
        if expires_at - now <= EXPIRES_SOON and self._due(
            self._expiring_told, key, now, EXPIRING_EVERY
        ):
            log.warning(
                "API token expires soon",
                token=identity.display,
                expires_at=expires_at.isoformat(),
                days_left=max(0, (expires_at - now).days),
                to_do=SUCCESSOR,
            )
        return expires_at

    async def refused(self, raw: str) -> None:
        """A request's token ``raw`` did not work: told in the log when the store knows it."""
        if not looks_like_token(raw):
            return
        key = hash_secret(raw)
        now = self._now()
        if not self._due(self._refused_told, key, now, REFUSED_EVERY):
            return
        try:
            token = await self._store.get_token(token_hash=key)
            why = None if token is None else await self._why(token, now)
        except StoreUnavailable:
            return  # the refusal itself came from the store's answer; nothing more to say
        if token is None or why is None:
            return
        log.warning("API token refused", token=f"token:{token.name}", why=why)

    async def _why(self, token: TokenRecord, now: datetime) -> str | None:
        """Why ``token`` does not work, in the words of ``integrator tokens list``'s status;
        None when it does (checked again between the refusal and this read). A deactivated
        owner first: deactivating a person revokes their own tokens too, and "revoked" alone
        sent the upstream system's people looking for who revoked it."""
        if token.owner_id is not None:
            owner = await self._store.get_person(person_id=token.owner_id)
            if owner is None or owner.status == "deactivated":
                return "owner deactivated"
        if token.revoked_at is not None:
            return "revoked"
        if now >= token.expires_at:
            return "expired"
        if token.maker_token_id is not None or token.maker_person_id is not None:
            return "maker stopped"
        return None

    def _due(
        self, told: OrderedDict[str, datetime], key: str, now: datetime, every: timedelta
    ) -> bool:
        """Whether ``key``'s notice is due (none in the last ``every``); noted as told if so."""
        last = told.get(key)
        if last is not None and now - last < every:
            return False
        self._keep(told, key, now)
        return True

    def _keep(self, kept: OrderedDict[str, datetime], key: str, value: datetime) -> None:
        kept[key] = value
        kept.move_to_end(key)
        while len(kept) > self._most:
            kept.popitem(last=False)
