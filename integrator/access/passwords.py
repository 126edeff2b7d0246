"""Passwords: the policy a new password must meet, and Argon2id hashing (argon2-cffi).

Argon2id because it is memory-hard (a GPU farm cannot try billions of guesses a second, as it
can against SHA-256) and resists side channels; it is OWASP's first choice. The parameters are
RFC 9106's low-memory profile (64 MiB, 3 passes), which argon2-cffi uses by default. They are
written into every hash, so raising them later only needs :meth:`Passwords.needs_rehash` at the
next successful login.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from integrator.refusal import Coded

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it is no denial of service.
MAX_LENGTH = 256


_T = TypeVar("_T")

HASHES_AT_ONCE: Final = 2
"""How many Argon2id hashes or verifications run at once per event loop. Each takes 64 MiB
and most of a CPU for about a second, so this bounds both, however many logins arrive."""

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def off_the_loop(work: Callable[[], _T]) -> _T:
    """Run ``work`` (an Argon2id hash or verification) in a thread, at most
    ``HASHES_AT_ONCE`` at a time, and wait for it without blocking the event loop.

    The loop also serves the API, the console, intake and MLLP delivery; a hash run on it
    stops all of them for its duration, and logins for unknown addresses hash too (by
    design), so anyone could stall the engine with a handful of requests. argon2-cffi
    releases the GIL while it hashes, so the loop goes on meanwhile. The turn is one per
    loop (a semaphore belongs to one loop) and is given back only when the thread has
    finished, also when the waiting request is cancelled: a cancelled login must not let
    more hashes (and their memory) run at once than the bound.
    """
    loop = asyncio.get_running_loop()
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = asyncio.Semaphore(HASHES_AT_ONCE)
    await turn.acquire()
    try:
        running = asyncio.ensure_future(asyncio.to_thread(work))
    except BaseException:
        turn.release()
        raise
    running.add_done_callback(lambda _: turn.release())
    return await asyncio.shield(running)


class WeakPassword(Coded, ValueError):
    """The password breaks a rule of the policy; the message names the rule, never the password.
    It carries the rule's code, so the console can say it in the person's language."""


def check_policy(password: str, email: str) -> None:
    """Raise :class:`WeakPassword` unless ``password`` meets the policy for this account.

    Length is what makes a password strong, so the rule is a minimum length rather than
    character classes (NIST SP 800-63B); and the account's own e-mail address, or the part
    before the ``@``, is the first thing anybody would try.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters").coded(
            "password.too_short", least=MIN_LENGTH
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters").coded(
            "password.too_long", most=MAX_LENGTH
        )
    if not password.strip():
        raise WeakPassword("a password must not be only spaces").coded("password.blank")
    lowered = password.strip().casefold()
    address = email.strip().casefold()
    if lowered in (address, address.partition("@")[0]):
        raise WeakPassword("a password must not be the account's e-mail address").coded(
            "password.is_email"
        )


HASH_PARAMETERS = RFC_9106_LOW_MEMORY
"""The parameters of every hasher made without one. The test suite sets argon2's cheapest in
its own process (a quarter of a second of CPU per hash, hundreds of sign-ins), except for the
test that checks these."""


def _default_hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(HASH_PARAMETERS)


@dataclass(frozen=True)
class Passwords:
    """Hash and verify with Argon2id; tests may pass a cheaper hasher to stay fast."""

    hasher: PasswordHasher = field(default_factory=_default_hasher)

    def __post_init__(self) -> None:
        if self.hasher.type is not Type.ID:
            raise ValueError("passwords are hashed with Argon2id only")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches; False for a mismatch or a hash that cannot be read."""
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's (rehash at login)."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def waste_time(self, password: str) -> None:
        """Do the work of a verification for an account that does not exist.

        So a login for an unknown e-mail address takes as long as one with a wrong password,
        and the answer time does not tell an attacker which addresses have accounts.
        """
        self.verify(self._dummy_hash, password)

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash(secrets.token_urlsafe(16))
