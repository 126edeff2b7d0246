"""With another process holding SQLite's write lock, a refused event gets its 503 as a valid one
does: after one busy timeout at most, with ``Retry-After``.

A refused event is kept as rejected input by a pooled write, which queued at this engine's write
turn behind its other pooled writers, each failing after its own busy timeout: a walkthrough saw
45 s before the 503 of a refused event and 15 s for a valid one. The busy timeout is cut to a
two seconds here, as the connections are made (``engine.SQLITE_PRAGMAS``), so the tests stay short.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from integrator.store import StoreUnavailable
from tests.store.helpers import cut_busy_timeout, write_locked

BUSY_MS = 2000
EVENTS = "/api/v1/events"


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the engine fixture opens its store: every connection waits ``BUSY_MS``."""
    cut_busy_timeout(monkeypatch, BUSY_MS)


@contextmanager
def locked(engine: Engine) -> Iterator[None]:
    """SQLite's write lock held by another connection, as another process would hold it."""
    with write_locked(engine.settings.database_url.split("///", 1)[1]):
        yield


async def timed(api: httpx.AsyncClient, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await api.post(EVENTS, json=body)
    return answer, time.monotonic() - started


def unavailable(answer: httpx.Response) -> bool:
    return answer.status_code == 503 and answer.headers.get("retry-after") == "5"


async def test_a_refused_and_a_valid_event_wait_alike_then_503(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    await api.get(EVENTS)  # the token's last use written: no bookkeeping write below
    with locked(engine):
        refused, refused_for = await timed(api, {"event_id": "not-a-uuid"})
        valid, valid_for = await timed(api, referral_data)
    assert unavailable(refused) and unavailable(valid)
    # One busy timeout each (the refused one took three, one after the other, before).
    assert max(refused_for, valid_for) < 1.5 * BUSY_MS / 1000, (refused_for, valid_for)


async def test_a_request_is_not_held_up_by_noting_its_token_s_use(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Its token is read off the write path; noting when it was last used is bookkeeping, which
    waits ``TOUCH_WAIT_S`` at most: a locked store held every API request for the whole busy
    timeout, as the upstream developer's walkthrough saw (docs/architecture.md)."""
    with locked(engine):
        started = time.monotonic()
        listed = await api.get(EVENTS)  # a read: its token not noted as used yet
        took = time.monotonic() - started
    assert listed.status_code == 200, listed.text
    assert took < 0.5 * BUSY_MS / 1000, took
    again = await api.get(EVENTS)  # the store free again: the use is noted now
    assert again.status_code == 200
    [token] = [t for t in await engine.store.list_tokens() if t.revoked_at is None]
    assert token.last_used_at is not None


async def test_a_refused_event_behind_another_writer_waits_one_busy_timeout_in_all(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Another pooled write of this engine waits at the lock first (a job's, the heartbeat's):
    the refused event's wait for it counts against its own busy timeout, not before it."""
    await api.get(EVENTS)
    with locked(engine):
        ahead = asyncio.create_task(engine.store.reject_event(b"{}", "cli", []))
        await asyncio.sleep(0.1)  # it holds the write turn, waiting at SQLite's lock
        refused, waited = await timed(api, {"event_id": "not-a-uuid"})
        with pytest.raises(StoreUnavailable):
            await ahead
    assert unavailable(refused)
    assert waited < 1.5 * BUSY_MS / 1000, waited  # it waited 2 s: the one ahead's, then its own


async def test_the_wait_is_the_usual_one_again_after_a_bounded_write(engine: Engine) -> None:
    """The busy timeout cut for a write is set back before its connection goes to the pool."""
    with locked(engine), pytest.raises(StoreUnavailable):
        await engine.store.reject_event(b"{}", "cli", [])
    kept = await engine.store.reject_event(b"{}", "cli", [])
    assert kept
    async with engine.store._engine.connect() as conn:
        timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert timeout == BUSY_MS


async def test_rejects_at_once_each_wait_one_busy_timeout_in_all(engine: Engine) -> None:
    """Three kept at once (three senders' refusals) all fail after one busy timeout, not one
    after the other (1, 2, 3 s): the write turn's wait is part of each one's."""

    async def reject() -> float:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await engine.store.reject_event(b"{}", "cli", [])
        return time.monotonic() - started

    with locked(engine):
        waits = await asyncio.gather(reject(), reject(), reject())
    assert max(waits) < 1.5 * BUSY_MS / 1000, waits
