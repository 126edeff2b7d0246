"""How many failed sign-ins one client address may make: ten in ten minutes, then it waits.

The account lock (``AccessSettings.max_failed_logins``) stops guessing at one account; it does
nothing against one address guessing a few passwords at each of many accounts. So every
attempt that checks a password or a second factor (signing in, accepting an invitation) is
counted per client address, the address the audit trail records (``http.deps.source_of``:
the connection's, or what a proxy named in ``INTEGRATOR_TRUSTED_PROXIES`` forwards). An
address with ``limit`` counted attempts within ``window`` is held: its next attempts are
refused without anything being checked, until the oldest of them is ``window`` old.

What is counted together is what one machine holds (``counted_as``): an IPv4 address alone,
but an IPv6 address by its /64, the network every host gets whole (SLAAC, privacy addresses):
counted one by one, one machine could take ten attempts at each of its billions of addresses,
and by cycling through them push its own held entries out of the bounded table. An
IPv4-mapped IPv6 address (``::ffff:192.0.2.7``, a dual-stack socket's view of an IPv4 client)
is counted as the IPv4 address it is.

An attempt is counted *before* it is checked (``reserve``) and uncounted when it passed or
checked nothing (``Reservation.__exit__`` without ``failed``), as the account lock counts: a
burst of attempts sent at once gets ``limit`` checks, not one per request already in flight.
A successful sign-in is therefore never slowed, and costs the address nothing.

The counts are in memory, per engine: several engines behind one load balancer each count
their own (docs/access.md says so), and a restart forgets them. Memory is bounded: at most
``addresses`` are tracked (each an address or a /64, as counted), each with at most ``limit``
times, about 1.4 KB each (14 MB at 10,000, measured with tracemalloc); the one seen least
recently is forgotten first. An attempt without an address (the service called in-process,
never through HTTP) is not counted: there is nothing to count it under.

There is deliberately no count across all addresses together: an attacker who failed often
enough would then hold everybody's sign-in, the colleagues' who did nothing wrong. Guessing at
one account spread over many networks meets that account's own lock instead, in the store.

Time is the engine's ``Clock``, so a test moves it by ten minutes without waiting them.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Final

from integrator.clock import Clock

LIMIT: Final = 10
"""Attempts counted per address within ``WINDOW`` before it is held."""
WINDOW: Final = timedelta(minutes=10)
ADDRESSES: Final = 10_000
"""Addresses (or IPv6 /64s) tracked at once, about 1.4 KB each: the least recently seen goes
first."""
IPV6_COUNTED_BY: Final = 64
"""The prefix an IPv6 address is counted by: the network one host gets whole."""


def counted_as(address: str) -> str:
    """What ``address``'s attempts are counted under: an IPv4 address as it is, an IPv6 one as
    its /64 (``2001:db8:1:2::/64``), an IPv4-mapped one as its IPv4 address. What is no IP
    address (a test client's name) is counted as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    shift = 128 - IPV6_COUNTED_BY
    return str(ipaddress.IPv6Network((int(ip) >> shift << shift, IPV6_COUNTED_BY)))


@dataclass(frozen=True, slots=True)
class Held:
    """An attempt refused unchecked: its address made ``failures`` attempts within the
    window. ``first``: the first refusal since the address was last told about (at most one
    per window), the one the audit trail records."""

    until: datetime
    retry_after: int
    """Whole seconds until ``until``, at least 1 (``Retry-After``)."""
    failures: int
    first: bool
    counted_as: str
    """What the attempts were counted under (``counted_as``): the address, or its /64."""


@dataclass(slots=True)
class _Address:
    attempts: deque[datetime] = field(default_factory=deque)
    told_until: datetime | None = None  # a refusal before this was audited already


class Reservation:
    """One counted attempt. Leave its ``with`` block without calling ``failed`` and it is
    uncounted: it passed, or was refused for something other than a wrong secret."""

    def __init__(self, throttle: SignInThrottle | None, counted: str, at: datetime) -> None:
        """``counted``: what the attempt was counted under (``counted_as``)."""
        self._throttle = throttle
        self._counted = counted
        self._at = at
        self._failed = False

    def failed(self) -> None:
        """The attempt checked a password, code or link, and it was wrong: it stays counted."""
        self._failed = True

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self._failed and self._throttle is not None:
            self._throttle._uncount(self._counted, self._at)


class SignInThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        limit: int = LIMIT,
        window: timedelta = WINDOW,
        addresses: int = ADDRESSES,
        held: Callable[[], None] | None = None,
    ) -> None:
        """``held`` is called for each attempt refused (the engine's counter metric)."""
        if limit < 1 or addresses < 1 or window <= timedelta(0):
            raise ValueError("limit, window and addresses must be positive")
        self._clock = clock
        self._limit = limit
        self._window = window
        self._most = addresses
        self._held = held
        self._tracked: OrderedDict[str, _Address] = OrderedDict()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window(self) -> timedelta:
        return self._window

    def __len__(self) -> int:
        """Addresses tracked now."""
        return len(self._tracked)

    def reserve(self, address: str | None) -> Reservation | Held:
        """Count an attempt from ``address`` before it is checked (under ``counted_as``: an
        IPv6 address by its /64), or say it is held."""
        now = self._clock.now()
        if address is None:
            return Reservation(None, "", now)
        key = counted_as(address)
        state = self._tracked.get(key)
        if state is None:
            state = self._tracked[key] = _Address()
        self._tracked.move_to_end(key)
        attempts = state.attempts
        while attempts and attempts[0] <= now - self._window:
            attempts.popleft()
        if len(attempts) >= self._limit:
            until = attempts[0] + self._window
            first = state.told_until is None or now >= state.told_until
            if first:
                state.told_until = now + self._window  # one audit entry per window
            if self._held is not None:
                self._held()
            seconds = max(1, math.ceil((until - now).total_seconds()))
            return Held(until, seconds, len(attempts), first, key)
        attempts.append(now)
        while len(self._tracked) > self._most:
            self._tracked.popitem(last=False)
        return Reservation(self, key, now)

    def _uncount(self, counted: str, at: datetime) -> None:
        state = self._tracked.get(counted)
        if state is None:  # forgotten meanwhile (evicted)
            return
        try:
            state.attempts.remove(at)
        except ValueError:
            return
        if not state.attempts and state.told_until is None:
            del self._tracked[counted]
