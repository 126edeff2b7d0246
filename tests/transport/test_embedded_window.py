"""The embedded transport holds a window of messages whole and the rest as ids."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from destinations.worker import OutboundMessage
from integrator.transport.embedded import EmbeddedTransport


def _message(n: int, attempts: int = 0) -> OutboundMessage:
    return OutboundMessage(
        f"m{n}", "d", f"C{n}", f"MSH|{n}".encode(), datetime(2026, 1, 1, tzinfo=UTC), attempts
    )


class _Store:
    """Stands in for the store: what it has, and which ids were asked for."""

    def __init__(self, messages: list[OutboundMessage]) -> None:
        self.messages = {m.message_id: m for m in messages}
        self.asked: list[list[str]] = []

    async def load(self, ids: Sequence[str]) -> list[OutboundMessage]:
        self.asked.append(list(ids))
        return [self.messages[i] for i in sorted(ids) if i in self.messages]


async def _take(transport: EmbeddedTransport, count: int) -> list[OutboundMessage]:
    return [(await transport.receive("d")).message for _ in range(count)]


def test_messages_behind_the_window_are_loaded_in_publish_order() -> None:
    async def run() -> None:
        messages = [_message(n) for n in range(10)]
        store = _Store(messages)
        transport = EmbeddedTransport(load=store.load, window=4)
        await transport.publish(messages)
        assert transport.pending("d") == 10
        assert await _take(transport, 10) == messages
        assert transport.pending("d") == 0
        assert all(len(ids) <= 4 for ids in store.asked)
        assert [i for ids in store.asked for i in ids] == [f"m{n}" for n in range(4, 10)]

    asyncio.run(run())


def test_a_message_no_longer_pending_is_skipped_and_may_be_published_again() -> None:
    async def run() -> None:
        messages = [_message(n) for n in range(6)]
        store = _Store([m for m in messages if m.message_id != "m4"])
        transport = EmbeddedTransport(load=store.load, window=2)
        await transport.publish(messages)
        taken = await _take(transport, 5)
        assert [m.message_id for m in taken] == ["m0", "m1", "m2", "m3", "m5"]
        await transport.publish([messages[4]])  # forgotten, so not taken for a duplicate
        assert (await transport.receive("d")).message == messages[4]

    asyncio.run(run())


def test_a_loaded_message_keeps_the_attempt_count_it_was_published_with() -> None:
    async def run() -> None:
        stored = [_message(n) for n in range(3)]
        store = _Store(stored)
        transport = EmbeddedTransport(load=store.load, window=1)
        published = [stored[0], stored[1], dataclasses.replace(stored[2], attempt_count=2)]
        await transport.publish(published)
        assert [m.attempt_count for m in await _take(transport, 3)] == [0, 0, 2]

    asyncio.run(run())


def test_a_retry_handed_back_behind_the_window_keeps_its_time() -> None:
    """A stopping runner hands its waiting retries back with ``not_before``; one that lands
    behind the window is loaded from the store, which may not have its time yet: it keeps the
    one it was published with, and a later one the store has wins."""

    async def run() -> None:
        due = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        stored = [_message(n, attempts=1) for n in range(3)]
        stored[2] = dataclasses.replace(stored[2], not_before=due + timedelta(minutes=1))
        store = _Store(stored)
        transport = EmbeddedTransport(load=store.load, window=1)
        await transport.publish([dataclasses.replace(m, not_before=due) for m in stored])
        taken = await _take(transport, 3)
        assert [m.message_id for m in taken] == ["m0", "m1", "m2"]
        assert [m.not_before for m in taken] == [due, due, due + timedelta(minutes=1)]
        assert store.asked == [["m1"], ["m2"]]  # behind the window: loaded from the store

    asyncio.run(run())


def test_without_a_loader_everything_is_held() -> None:
    async def run() -> None:
        messages = [_message(n) for n in range(5)]
        transport = EmbeddedTransport(window=2)
        await transport.publish(messages)
        assert await _take(transport, 5) == messages

    asyncio.run(run())


def _sized(n: int, size: int) -> OutboundMessage:
    return OutboundMessage(f"m{n}", "d", f"C{n}", b"M" * size, datetime(2026, 1, 1, tzinfo=UTC), 0)


def test_the_window_holds_no_more_payload_bytes_than_its_budget() -> None:
    """Counting messages alone would hold 10,000 referrals with a PDF each: gigabytes."""

    async def run() -> None:
        messages = [_sized(n, 40) for n in range(12)]
        store = _Store(messages)
        transport = EmbeddedTransport(load=store.load, window=1000, window_bytes=100)
        await transport.publish(messages)
        assert transport.pending("d") == 12
        assert await _take(transport, 12) == messages  # publish order kept
        loaded = [[store.messages[i] for i in ids] for ids in store.asked]
        assert loaded, "messages beyond the byte budget were held whole"
        # Two of 40 bytes fit a budget of 100; the loads never hold more than that.
        assert all(sum(len(m.payload) for m in chunk) <= 100 for chunk in loaded)
        assert [i for ids in store.asked for i in ids] == [f"m{n}" for n in range(2, 12)]

    asyncio.run(run())


def test_a_message_larger_than_the_budget_is_still_delivered_alone() -> None:
    async def run() -> None:
        messages = [_sized(0, 10), _sized(1, 500), _sized(2, 10)]
        store = _Store(messages)
        transport = EmbeddedTransport(load=store.load, window=1000, window_bytes=100)
        await transport.publish(messages)
        assert await _take(transport, 3) == messages
        assert store.asked == [["m1"], ["m2"]]

    asyncio.run(run())


@dataclasses.dataclass(frozen=True)
class _Ref:
    id: str
    destination_id: str
    attempt_count: int
    size: int


def _ref(message: OutboundMessage) -> _Ref:
    return _Ref(
        message.message_id, message.destination_id, message.attempt_count, len(message.payload)
    )


def test_requeued_refs_are_loaded_a_window_at_a_time_behind_what_waits() -> None:
    """A restart queues the store's pending messages by reference: no payload is loaded until
    the queue drains, then no more than a window by count and by bytes."""

    async def run() -> None:
        messages = [_sized(n, 40) for n in range(12)]
        store = _Store(messages)
        transport = EmbeddedTransport(load=store.load, window=3, window_bytes=100)
        await transport.publish(messages[:1])  # held whole, as published
        transport.requeue([_ref(m) for m in messages])  # m0 is waiting already: skipped
        assert store.asked == []
        assert transport.pending("d") == 12
        assert await _take(transport, 12) == messages
        assert store.asked and all(len(ids) <= 2 for ids in store.asked)  # 2 x 40 bytes fit
        assert [i for ids in store.asked for i in ids] == [f"m{n}" for n in range(1, 12)]
        assert transport.pending("d") == 0

    asyncio.run(run())


def test_requeueing_refs_needs_a_loader() -> None:
    transport = EmbeddedTransport()
    with pytest.raises(RuntimeError, match="loader"):
        transport.requeue([_ref(_message(0))])
    assert transport.pending("d") == 0


def test_what_a_stopped_runner_left_unsettled_goes_back_to_the_head_with_the_stores_time() -> None:
    """A fifo retry waiting out its backoff when its runner stops (pause, change) is received
    and not settled. Released, it goes back to the head, ahead of what queued behind it, loaded
    again as the store has it now: with the attempt made and its next_attempt_at."""

    async def run() -> None:
        messages = [_message(n) for n in range(4)]
        store = _Store(messages)
        transport = EmbeddedTransport(load=store.load, window=2)
        await transport.publish(messages)
        settled = await transport.receive("d")  # m0: delivered
        await settled.settle()
        await transport.receive("d")  # m1: refused, waiting out its backoff as the runner stops
        retried = dataclasses.replace(
            messages[1], attempt_count=1, not_before=datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
        )
        store.messages["m1"] = retried  # the loader gives a retry its next_attempt_at
        await transport.release("d")
        transport.requeue([_ref(m) for m in messages[1:]])  # the new runner's: all waiting
        assert transport.pending("d") == 3
        assert await _take(transport, 3) == [retried, messages[2], messages[3]]
        assert transport.pending("d") == 0

    asyncio.run(run())
