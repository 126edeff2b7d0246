"""``LoopStalls``: when a delivery taken from the broker is in doubt (it may have been given to
another engine since, its connection closed unnoticed while the loop stood still).

The rules are checked on a clock the test moves (``ticked``, ``now=``); one test blocks a real
event loop, as a frozen process does, and finds the stall told.
"""

from __future__ import annotations

import asyncio
import time

from integrator.transport.stalls import HELD_MAX, LoopStalls, held

TICK = 0.25


def _stalls(start: float = 100.0) -> LoopStalls:
    stalls = LoopStalls(tick=TICK)
    stalls.started_at(start)
    return stalls


def _ticks(stalls: LoopStalls, start: float, end: float) -> None:
    """Ticks on time from ``start`` to ``end``: a loop that never stood still."""
    now = start
    while now < end:
        now += TICK
        stalls.ticked(now)


def test_a_delivery_taken_and_sent_at_once_is_not_in_doubt() -> None:
    stalls = _stalls()
    _ticks(stalls, 100.0, 110.0)
    assert not stalls.in_doubt(109.9, within=5.0, now=110.0)


def test_a_delivery_held_a_quarter_heartbeat_is_in_doubt_though_the_loop_ran() -> None:
    stalls = _stalls()
    _ticks(stalls, 100.0, 110.0)
    assert not stalls.in_doubt(105.1, within=5.0, now=110.0)
    assert stalls.in_doubt(105.0, within=5.0, now=110.0)


def test_while_the_loop_stands_still_everything_is_in_doubt() -> None:
    """The loop just woke: the tick that would tell the stall has not run, yet a delivery read
    from the socket in this turn was sent by the broker before it closed the connection."""
    stalls = _stalls()
    _ticks(stalls, 100.0, 110.0)
    assert stalls.in_doubt(130.0, within=5.0, now=130.0)


def test_a_delivery_received_around_a_stall_is_in_doubt_and_later_ones_are_not() -> None:
    stalls = _stalls()
    _ticks(stalls, 100.0, 110.0)
    stalls.ticked(130.0)  # the loop stood still from 110 to 130
    _ticks(stalls, 130.0, 140.0)
    assert stalls.in_doubt(129.9, within=5.0, now=130.5)  # before the late tick ran
    assert stalls.in_doubt(130.1, within=5.0, now=130.5)  # just after it
    assert not stalls.in_doubt(135.5, within=5.0, now=136.0)  # the stall long told


def test_a_stall_shorter_than_the_bound_puts_nothing_in_doubt() -> None:
    stalls = _stalls()
    _ticks(stalls, 100.0, 110.0)
    stalls.ticked(112.0)  # 1.75 s late: the broker cannot have given up on 5 s
    assert not stalls.in_doubt(112.0, within=5.0, now=112.1)
    assert stalls.in_doubt(112.0, within=1.0, now=112.1)  # a heartbeat of 4 s: it can


def test_not_started_it_tells_no_stand_still() -> None:
    stalls = LoopStalls(tick=TICK)
    assert not stalls.in_doubt(1000.0, within=5.0, now=1000.1)


def test_the_bound_is_a_quarter_of_the_heartbeat_at_most_five_seconds() -> None:
    assert held(2) == 0.5
    assert held(10) == 2.5
    assert held(60) == HELD_MAX == 5.0
    assert held(0) == HELD_MAX  # no heartbeat: the broker never gives up on a silent one


async def test_a_loop_blocked_as_a_frozen_process_is_is_told() -> None:
    stalls = LoopStalls(tick=0.05)
    stalls.start()
    try:
        await asyncio.sleep(0.1)
        loop = asyncio.get_running_loop()
        time.sleep(0.6)  # noqa: ASYNC251 - the whole loop stands still, as under SIGSTOP
        woke = loop.time()
        # Woken, the ticker not yet run: anything received now is in doubt.
        assert stalls.in_doubt(woke, within=0.5)
        await asyncio.sleep(0.1)  # the ticker runs and keeps the stall
        assert stalls.in_doubt(woke, within=0.5, now=woke + 0.2)
    finally:
        await stalls.close()
