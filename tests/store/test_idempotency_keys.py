"""The API's idempotency keys on both backends: one claim of a key wins, its answer is kept for
the repeats, a released key is claimed afresh, expired ones go (with the next claim of the key,
and with the daily prune)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from integrator.idempotency import ABANDONED_AFTER
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.store import Store
from integrator.store.idempotency import IdempotencyRecord

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
CALLER = "token:t1"


async def _claim(
    store: Store,
    key: str,
    *,
    caller: str = CALLER,
    hashed: str = "h" * 64,
    at: datetime = NOW,
) -> IdempotencyRecord | None:
    return await store.claim_idempotency_key(
        caller,
        key,
        request_hash=hashed,
        now=at,
        expires_at=at + DAY,
        abandoned_before=at - ABANDONED_AFTER,
    )


async def test_the_same_key_claimed_five_times_at_once_is_claimed_once(store: Store) -> None:
    claims = await asyncio.gather(*(_claim(store, "k1") for _ in range(5)))
    assert sum(c is None for c in claims) == 1
    assert all(c.status is None and not c.finished for c in claims if c is not None)

    await store.finish_idempotency_key(CALLER, "k1", status=201, answer={"message_id": "m2"})
    again = await _claim(store, "k1")
    assert again is not None and again.finished
    assert (again.status, again.answer, again.request_hash) == (201, {"message_id": "m2"}, "h" * 64)
    # Another caller's same key is another key; a finished answer is never released.
    assert await _claim(store, "k1", caller="person:p1") is None
    await store.release_idempotency_key(CALLER, "k1")
    assert (await _claim(store, "k1")) == again


async def test_a_released_key_is_claimed_afresh_and_an_expired_one_is_replaced(
    store: Store,
) -> None:
    assert await _claim(store, "k2") is None
    await store.release_idempotency_key(CALLER, "k2")
    assert await _claim(store, "k2", hashed="b" * 64) is None  # refused first: judged afresh
    await store.finish_idempotency_key(CALLER, "k2", status=202, answer={"id": "job"})
    later = NOW + DAY
    assert await _claim(store, "k2", hashed="c" * 64, at=later) is None  # expired: replaced


async def test_the_prune_deletes_expired_keys_and_keeps_live_ones(store: Store) -> None:
    assert await _claim(store, "old") is None
    await store.finish_idempotency_key(CALLER, "old", status=201, answer={})
    assert await _claim(store, "live", at=NOW + timedelta(hours=12)) is None
    # Finished: an unfinished claim this old would count as abandoned, whatever the prune did.
    await store.finish_idempotency_key(CALLER, "live", status=202, answer={"id": "job"})
    keep_all = Retention(
        payload_days=0, dead_letter_days=0, rejected_days=0, unrouted_days=0, audit_days=0
    )
    at = NOW + DAY + timedelta(minutes=1)

    dry = await prune(store, keep_all, now=at, actor="local:tester", dry_run=True)
    assert dry.counts["idempotency_keys"] == 1 and dry.total == 1
    assert await store.count_expired_idempotency_keys(now=at) == 1
    report = await prune(store, keep_all, now=at, actor="local:tester")
    assert report.counts == {**dict.fromkeys(report.counts, 0), "idempotency_keys": 1}
    assert await store.count_expired_idempotency_keys(now=at) == 0
    live = await _claim(store, "live", at=at)
    assert live is not None and (live.status, live.answer) == (202, {"id": "job"})  # kept


async def test_an_unfinished_claim_is_replaced_once_abandoned_and_a_finished_one_never(
    store: Store,
) -> None:
    assert await _claim(store, "k3") is None  # a request that never finished nor released it
    busy = await _claim(store, "k3", at=NOW + ABANDONED_AFTER - timedelta(seconds=1))
    assert busy is not None and not busy.finished
    later = NOW + ABANDONED_AFTER
    assert await _claim(store, "k3", hashed="d" * 64, at=later) is None  # abandoned: replaced
    await store.finish_idempotency_key(CALLER, "k3", status=201, answer={"id": "m"})
    kept = await _claim(store, "k3", at=later + 2 * ABANDONED_AFTER)
    assert kept is not None and (kept.status, kept.request_hash) == (201, "d" * 64)
