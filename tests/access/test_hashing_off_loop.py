"""Argon2id runs in threads, a few at a time, never on the event loop.

Found by an audit: each hash (64 MiB, 3 passes, about a second) ran on the loop that also
serves the API, the console, intake and MLLP delivery, and logins for unknown addresses hash
too, by design; 40 such logins at once made ``/healthz`` answer 503 after 30 s. These tests
assert no timings as performance, only that the loop was not held for a hash's duration.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from integrator.access import AccessService, AccessSettings, LoginRefused
from integrator.access.passwords import HASHES_AT_ONCE, Passwords, off_the_loop
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import BASE_URL


class _Noting(Passwords):
    """The real hasher, noting the thread of each verification it wastes time on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def waste_time(self, password: str) -> None:
        self.threads.append(threading.get_ident())
        super().waste_time(password)


async def _longest_gap(until: asyncio.Event) -> float:
    """The longest time between this task's wake-ups, ticking every 10 ms until ``until``."""
    longest = 0.0
    last = time.perf_counter()
    while not until.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    return longest


@pytest.mark.production_password_hashes
async def test_logins_for_unknown_addresses_leave_the_loop_free(
    store: Store, clock: ManualClock
) -> None:
    passwords = _Noting()  # the production parameters: a hash takes a noticeable time
    passwords.waste_time("warm up: the dummy hash is made once")
    started = time.perf_counter()
    passwords.waste_time("one verification, timed")
    one_hash = time.perf_counter() - started
    service = AccessService(store, clock, AccessSettings(base_url=BASE_URL), passwords)

    async def unknown(n: int) -> None:
        with pytest.raises(LoginRefused):
            await service.login(f"nobody-{n}@example.nl", "een of ander wachtwoord", "123456")

    done = asyncio.Event()
    ticker = asyncio.create_task(_longest_gap(done))
    await asyncio.sleep(0.05)
    await asyncio.gather(*(unknown(n) for n in range(4)))
    done.set()
    longest = await ticker
    # Each login's hash ran on a thread other than the loop's (the deciding check: no timing).
    loop_thread = threading.get_ident()
    assert len(passwords.threads) == 1 + 1 + 4  # warm-up and timed here, then the 4 logins
    assert loop_thread not in passwords.threads[2:]
    # On the loop, the ticker would wait a whole hash at least; in threads, less (on a loaded
    # machine the threads' hashes still take CPU from the loop, so no finer bound than this).
    assert longest < one_hash, (longest, one_hash)


async def test_at_most_a_few_hashes_run_at_once_and_a_cancelled_wait_keeps_its_turn() -> None:
    lock = threading.Lock()
    running = 0
    most = 0
    release = threading.Event()

    def work() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        return 1

    waits = [asyncio.create_task(off_the_loop(work)) for _ in range(HASHES_AT_ONCE + 3)]
    await asyncio.sleep(0.2)
    assert running == HASHES_AT_ONCE
    # A request cancelled while its hash runs does not free a turn before the hash is done.
    waits[0].cancel()
    await asyncio.sleep(0.2)
    assert running == HASHES_AT_ONCE
    release.set()
    results = await asyncio.gather(*waits[1:])
    assert results == [1] * (len(waits) - 1)
    assert most == HASHES_AT_ONCE
