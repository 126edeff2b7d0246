"""Noting when a console session was last seen is bookkeeping: with another process holding a
SQLite store's write lock it waits ``people.TOUCH_WAIT_S`` at most, and the page is answered
(docs/architecture.md). It held every console page for the whole busy timeout, as the API's
token did; the note is written by a later request once the store is free. The person's own
"keep me signed in" still waits as a write does.

The busy timeout is cut to two seconds, as the connections are made, so the test stays short."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from integrator.access import AccessService, Grant, Role
from integrator.access import tokens as secrets_
from integrator.access.passwords import Passwords
from integrator.access.settings import AccessSettings
from integrator.clock import ManualClock
from integrator.store import Store
from tests.access.conftest import BASE_URL, T0, next_code, onboard
from tests.store.helpers import cut_busy_timeout, write_locked

BUSY_MS = 2000


@pytest.fixture
async def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    cut_busy_timeout(monkeypatch, BUSY_MS)
    store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    await store.close()


async def test_a_page_is_not_held_up_by_noting_its_session_s_use(
    sqlite_store: Store, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    service = AccessService(
        sqlite_store,
        clock,
        AccessSettings(base_url=BASE_URL),
        Passwords(PasswordHasher.from_parameters(CHEAPEST)),
    )
    member = await onboard(service, clock, "sanne@example.org", Grant(Role.VIEWER))
    opened = await service.login(member.email, member.password, next_code(member, clock))
    clock.advance(timedelta(minutes=5))  # past the touch interval: this request notes its use
    with write_locked(tmp_path / "store.db"):
        started = time.monotonic()
        identity = await service.authenticate_session(opened.session)
        took = time.monotonic() - started
    assert identity is not None and identity.display == "person:sanne@example.org"
    assert took < 0.5 * BUSY_MS / 1000, took  # it waited the whole busy timeout
    unnoted = await sqlite_store.get_session(secrets_.hash_secret(opened.session))
    assert unnoted is not None and unnoted.last_seen_at < clock.now()
    assert await service.authenticate_session(opened.session) is not None  # the store free
    noted = await sqlite_store.get_session(secrets_.hash_secret(opened.session))
    assert noted is not None and noted.last_seen_at == clock.now()
