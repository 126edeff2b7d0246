"""The write turn of an embedded store: hot writes share it, any other write takes it alone.

The hot writes (accepting events, recording attempts) run on the store's one writer thread,
which orders them itself; holding one of them on the event loop until the one before came back
from the thread cost a paced run's intake up to 10 ms at its 99th percentile. A pooled write
(anything else) still meets SQLite's one lock, so it waits for the hot writes handed over before
it, and those asking after it wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from integrator.store import AttemptRecord, MessageStatus, Store
from integrator.store.sqlite_hot_writes import SqliteHotWrites
from integrator.store.write_turn import WriteTurn
from tests.store.factories import T0, make_event, make_message

SOON = 5.0  # seconds: what a step that does not wait for anything takes at most, on a busy CI


async def started(work: Awaitable[Any]) -> asyncio.Task[Any]:
    """``work`` as a task, run until it waits."""
    task = asyncio.ensure_future(work)
    for _ in range(5):
        await asyncio.sleep(0)
    return task


def holding(turn: Callable[[], Any], entered: list[str], name: str, leave: asyncio.Event) -> Any:
    async def hold() -> None:
        async with turn():
            entered.append(name)
            await leave.wait()

    return hold()


async def hot_pooled_hot(
    turn: WriteTurn, entered: list[str], *leaves: asyncio.Event
) -> tuple[asyncio.Task[Any], ...]:
    """A hot write holding the turn, then a pooled write and another hot write asking for it,
    each leaving once its event (``leaves``, in that order) is set."""
    hot = await started(holding(turn.shared, entered, "hot", leaves[0]))
    pooled = await started(holding(turn.exclusive, entered, "pooled", leaves[1]))
    later = await started(holding(turn.shared, entered, "later hot", leaves[2]))
    return hot, pooled, later


async def test_hot_writes_share_the_turn() -> None:
    turn = WriteTurn()
    entered: list[str] = []
    leave = asyncio.Event()
    first = await started(holding(turn.shared, entered, "first", leave))
    second = await started(holding(turn.shared, entered, "second", leave))
    assert entered == ["first", "second"]
    leave.set()
    await asyncio.gather(first, second)


async def test_a_pooled_write_waits_for_the_hot_writes_and_those_after_it_for_it() -> None:
    turn = WriteTurn()
    entered: list[str] = []
    hot_leaves, pooled_leaves, later_leaves = asyncio.Event(), asyncio.Event(), asyncio.Event()
    hot, pooled, later = await hot_pooled_hot(
        turn, entered, hot_leaves, pooled_leaves, later_leaves
    )
    assert entered == ["hot"]  # the pooled write waits; the hot write after it does not pass it

    hot_leaves.set()
    await hot
    await started(asyncio.sleep(0))
    assert entered == ["hot", "pooled"]

    pooled_leaves.set()
    later_leaves.set()
    await asyncio.gather(pooled, later)
    assert entered == ["hot", "pooled", "later hot"]


async def test_pooled_writes_take_the_turn_one_at_a_time_in_order() -> None:
    turn = WriteTurn()
    entered: list[str] = []
    leaves = {name: asyncio.Event() for name in ("a", "b", "c")}
    tasks = [await started(holding(turn.exclusive, entered, n, e)) for n, e in leaves.items()]
    assert entered == ["a"]
    leaves["a"].set()
    await tasks[0]
    await started(asyncio.sleep(0))
    assert entered == ["a", "b"]
    leaves["b"].set()
    leaves["c"].set()
    await asyncio.gather(*tasks)
    assert entered == ["a", "b", "c"]


async def test_a_waiter_cancelled_passes_the_turn_on() -> None:
    """A pooled write cancelled while it waits (its caller gave up) must not keep the hot
    writes behind it waiting; one cancelled just as the turn came to it gives it back."""
    turn = WriteTurn()
    entered: list[str] = []
    hot_leaves, never, later_leaves = asyncio.Event(), asyncio.Event(), asyncio.Event()
    hot, pooled, later = await hot_pooled_hot(turn, entered, hot_leaves, never, later_leaves)
    pooled.cancel()
    await asyncio.gather(pooled, return_exceptions=True)
    await started(asyncio.sleep(0))
    assert entered == ["hot", "later hot"]  # shares the turn with the first hot write

    # Granted, then cancelled before it ran: the turn is given back, not kept by nobody.
    second_pooled = await started(holding(turn.exclusive, entered, "second pooled", never))
    hot_leaves.set()
    later_leaves.set()
    await asyncio.gather(hot, later)
    second_pooled.cancel()  # the grant was set when the hot writes left; it has not run yet
    await asyncio.gather(second_pooled, return_exceptions=True)
    last = asyncio.Event()
    last.set()
    await asyncio.wait_for(holding(turn.exclusive, entered, "third pooled", last), SOON)
    assert entered[-1] == "third pooled"


async def test_a_hot_write_is_not_held_up_by_another_hot_write_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording an attempt goes through while an accept is still under way (here held on the
    loop before its hand-over); a pooled write asked meanwhile waits for that accept."""
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        message = make_message()
        await store.accept_event(make_event(), [message])

        hand_over = asyncio.Event()
        accepting = asyncio.Event()
        accept = SqliteHotWrites.accept

        async def held_accept(self: SqliteHotWrites, *args: Any, **kwargs: Any) -> Any:
            accepting.set()
            await hand_over.wait()
            return await accept(self, *args, **kwargs)

        monkeypatch.setattr(SqliteHotWrites, "accept", held_accept)
        later = make_message()
        event = make_event()
        accepted = await started(store.accept_events([(event, [later])]))
        await asyncio.wait_for(accepting.wait(), SOON)

        attempt = AttemptRecord(
            message_id=message.id, number=1, started_at=T0, duration_ms=3.0, outcome="delivered"
        )
        await asyncio.wait_for(store.record_attempts([(attempt, "delivered", None, None)]), SOON)
        got = await store.get_message(message.id)
        assert got is not None and got.status == MessageStatus.DELIVERED.value

        pooled = await started(store.add_messages(event.id, [make_message()]))
        await asyncio.sleep(0.2)
        assert not pooled.done()  # a pooled write waits for the accept in progress
        hand_over.set()
        assert await asyncio.wait_for(accepted, SOON) == [True]
        await asyncio.wait_for(pooled, SOON)
        assert len(await store.list_attempts(message.id)) == 1
        assert (await store.get_message(later.id)) is not None
