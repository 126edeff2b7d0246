"""Browsers a person signed in from before: the account lock does not keep them out.

The account lock (``AccessSettings.max_failed_logins`` wrong attempts lock the account for
``lockout``) has a price: anyone who knows a person's e-mail address can keep that person out,
five wrong passwords every quarter of an hour, for as long as they care to (the per-address
throttle allows twice that from one address). An admin kept out so in the middle of an incident
cannot pause a destination. OWASP's remedy for exactly this, device cookies, is what this is:

- each sign-in through the console that passes sets a cookie naming the person, when, and a
  random nonce, with an HMAC over the three (``issue``);
- a sign-in that brings a valid one for the account it names (``known``) is checked even while
  the account is locked, and neither counts towards nor lifts that lock; a wrong password or
  code through it counts against that cookie instead: ``limit`` within ``window`` hold the
  cookie (``reserve``), which is then like any other browser's and meets the account's lock.
  All the person's cookies together get twice that (``PER_PERSON``): whoever could make
  cookies (the search key leaked with a backup) gets no more guesses at an account than that,
  however many they make;
- a cookie is bound to the person's password hash as it was at the sign-in that made it, so
  setting up again (a second-factor reset, a new password) ends every cookie the person had;
- without one, nothing changes.

Nothing about a device is stored. The key is derived from the store's search key, which every
engine and command on a store shares (another key refuses a start), so any engine of the store
takes a cookie another engine made; a cookie is good for ``DEVICE_DAYS`` from the sign-in that
made it. A guessable search key (``Settings.search_key_weakness``) gives no key: whoever could
guess it could make cookies, so then none is made or trusted. The counts per cookie are this
engine's, in memory, in ``SignInThrottle`` tables keyed by the nonce and by the person
(bounded, like the per-address counts; a restart forgets them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final

from integrator.access.sign_in_throttle import Held, Reservation, SignInThrottle
from integrator.clock import Clock

DEVICE_DAYS: Final = 90
"""How long a cookie is taken from the sign-in that made it; each sign-in makes a new one."""
_PURPOSE: Final = b"integrator console known device v1"
_MOST_CHARACTERS: Final = 200
"""A cookie longer than any this module makes is not read at all."""
PER_PERSON: Final = 2
"""All of a person's cookies together get this many times one cookie's failures."""


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """A valid cookie: the person it was made for, and its nonce (what its failures are
    counted under)."""

    person_id: str
    nonce: str


def device_key(search_key: str | None, weakness: str | None) -> bytes | None:
    """The cookies' HMAC key, derived from the search key (its own purpose, so a cookie's MAC
    is never a BSN's hash); None without a search key or with a guessable one."""
    if search_key is None or weakness is not None:
        return None
    return hmac.new(search_key.encode(), _PURPOSE, hashlib.sha256).digest()


class DeviceAttempt:
    """One attempt counted against a cookie and against its person's cookies together. Leave
    its ``with`` block without ``failed`` and both are uncounted (``Reservation``)."""

    def __init__(self, device: Reservation, person: Reservation) -> None:
        self._counted = (device, person)

    def failed(self) -> None:
        for reservation in self._counted:
            reservation.failed()

    def __enter__(self) -> DeviceAttempt:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for reservation in self._counted:
            reservation.__exit__(kind, error, trace)


class KnownDevices:
    def __init__(
        self,
        clock: Clock,
        key: bytes | None,
        *,
        limit: int,
        window: timedelta,
        lifetime: timedelta = timedelta(days=DEVICE_DAYS),
    ) -> None:
        """``key``: None turns the whole thing off (nothing issued, nothing known)."""
        self._clock = clock
        self._key = key
        self._lifetime = lifetime
        self._failures = SignInThrottle(clock, limit=limit, window=window)
        self._per_person = SignInThrottle(clock, limit=limit * PER_PERSON, window=window)

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def issue(self, person_id: str, password_hash: str) -> str | None:
        """A new cookie's value for ``person_id``, signed in now with ``password_hash`` as
        their password's; None when off."""
        if self._key is None:
            return None
        issued = str(int(self._clock.now().timestamp()))
        nonce = secrets.token_urlsafe(16)
        mac = self._mac(person_id, password_hash, issued, nonce)
        return f"{person_id}.{issued}.{nonce}.{mac}"

    def known(self, cookie: str | None, person_id: str, password_hash: str) -> KnownDevice | None:
        """The device ``cookie`` proves for the sign-in of ``person_id``, whose password hash
        is ``password_hash``; None for no cookie, one made for another person or before the
        person set up again, too old, changed, or made under another key."""
        if self._key is None or not cookie or len(cookie) > _MOST_CHARACTERS:
            return None
        parts = cookie.split(".")
        if len(parts) != 4:
            return None
        owner, issued, nonce, mac = parts
        if owner != person_id or not issued.isdigit() or not nonce:
            return None
        expected = self._mac(owner, password_hash, issued, nonce)
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        made = datetime.fromtimestamp(int(issued), UTC)
        now = self._clock.now()
        if not now - self._lifetime < made <= now + timedelta(minutes=5):
            return None
        return KnownDevice(owner, nonce)

    def reserve(self, device: KnownDevice) -> DeviceAttempt | None:
        """Count an attempt through ``device`` before it is checked, against the device and
        against its person's devices together; None, counting nothing, when either has had
        too many failures lately (the attempt then goes as any browser's would)."""
        own = self._failures.reserve(device.nonce)
        if isinstance(own, Held):
            return None
        person = self._per_person.reserve(device.person_id)
        if isinstance(person, Held):
            own.__exit__(None, None, None)  # uncounted: it was not checked
            return None
        return DeviceAttempt(own, person)

    def _mac(self, person_id: str, password_hash: str, issued: str, nonce: str) -> str:
        assert self._key is not None
        bound = hashlib.sha256(password_hash.encode()).hexdigest()
        message = f"{person_id}|{bound}|{issued}|{nonce}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
