"""The byte budget's rule on its own (``integrator.transport.budget``): what fits, the prefetch a
consumer is started with, when it is started again smaller or larger."""

from __future__ import annotations

import asyncio

import pytest

from integrator.transport import budget
from integrator.transport.budget import ByteBudget

MIB = 1024 * 1024


def test_what_fits_the_budget_and_that_one_body_always_does() -> None:
    held = ByteBudget(10 * MIB, most=800, unknown=70 * MIB)
    assert held.fits(20 * MIB)  # nothing held: taken alone, however large
    held.take(6 * MIB)
    assert held.fits(4 * MIB) and not held.fits(4 * MIB + 1)
    held.give(6 * MIB)
    assert held.held == 0 and held.fits(20 * MIB)


def test_the_prefetch_is_the_room_over_the_largest_body_seen_recently() -> None:
    held = ByteBudget(64 * MIB, most=800, unknown=70 * MIB)
    assert held.prefetch() == 1  # nothing seen: the largest an event may be
    held.seen(3_000)
    assert held.prefetch() == 800  # small bodies: the count it had before, no more
    held.seen(7 * MIB)
    assert held.prefetch() == 9  # nine 5 MiB letters (6.7 MiB of base64 JSON) fit
    held.take(32 * MIB)
    assert held.prefetch() == 4  # the room left
    held.take(32 * MIB)
    assert held.prefetch() == 1  # none left: one at a time


def test_a_consumer_shrinks_at_once_and_grows_four_times_at_most() -> None:
    held = ByteBudget(64 * MIB, most=800, unknown=70 * MIB)
    held.seen(3_000)
    assert not held.too_large(800)
    held.seen(MIB)
    assert held.too_large(800) and not held.too_large(64)
    assert not held.grows(64)
    assert not held.too_large(1)  # one always fits
    fresh = ByteBudget(64 * MIB, most=800, unknown=70 * MIB)
    fresh.seen(3_000)
    assert fresh.grows(1) and fresh.prefetch(after=1) == 4
    assert fresh.prefetch(after=256) == 800  # never beyond the count it had before
    assert not fresh.grows(800)


def test_the_largest_body_is_forgotten_after_two_rounds_of_smaller_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(budget, "RECENT", 10)
    held = ByteBudget(64 * MIB, most=800, unknown=70 * MIB)
    held.seen(20 * MIB)
    for _ in range(9):
        held.seen(1_000)
    assert held.largest == 20 * MIB  # its own round, just ended
    for _ in range(9):
        held.seen(1_000)
        assert held.largest == 20 * MIB  # the round before
    held.seen(1_000)  # the end of the round after its own
    assert held.largest == 1_000


async def test_room_waits_until_the_largest_body_fits_again() -> None:
    held = ByteBudget(10 * MIB, most=800, unknown=70 * MIB)
    held.seen(4 * MIB)
    held.take(8 * MIB)
    waiting = asyncio.ensure_future(held.room())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    held.give(2 * MIB)  # 6 MiB held: 4 more fit
    await asyncio.wait_for(waiting, 1)
    assert held.has_room()
