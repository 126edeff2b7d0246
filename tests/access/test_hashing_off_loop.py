"""Argon2id runs in threads, a few at a time, never on the event loop.

Found by an audit: each hash (64 MiB, 3 passes, about a second) ran on the loop that also
serves the API, the console, intake and MLLP delivery, and logins for unknown addresses hash
too, by design; 40 such logins at once made ``/healthz`` answer 503 after 30 s. These tests
assert no timings: which thread each hash ran on decides (a bound on the loop's longest pause
failed on a loaded machine, 0.17 s against one hash's 0.15 s, in a clean-clone run).
"""

from __future__ import annotations

import asyncio
import threading

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


@pytest.mark.production_password_hashes
async def test_logins_for_unknown_addresses_leave_the_loop_free(
    store: Store, clock: ManualClock
) -> None:
    passwords = _Noting()  # the production parameters, as users get them
    passwords.waste_time("warm up: the dummy hash is made once, here")
    service = AccessService(store, clock, AccessSettings(base_url=BASE_URL), passwords)

    async def unknown(n: int) -> None:
        with pytest.raises(LoginRefused):
            await service.login(f"nobody-{n}@example.nl", "een of ander wachtwoord", "123456")

    await asyncio.gather(*(unknown(n) for n in range(4)))
    # Each login's hash ran on a thread other than the loop's.
    loop_thread = threading.get_ident()
    assert len(passwords.threads) == 1 + 4  # the warm-up here, then the 4 logins
    assert passwords.threads[0] == loop_thread
    assert loop_thread not in passwords.threads[1:]


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
