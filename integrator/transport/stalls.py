"""Whether a delivery taken from the broker may have been given to another engine since.

The broker hands a delivery left unacked to another consumer once it has closed the connection
it went out on, and it closes a connection whose heartbeats stop: an engine frozen past the
heartbeat (SIGSTOP, a virtual machine paused, a machine swapping hard) or cut off by a
half-open network. The engine learns of that close only when its event loop reads the socket,
a few turns after it runs again, and a delivery loop woken in the same turn (a retry's wait
over, the next prefetched message taken) sent what it held: another engine had delivered it
meanwhile (a chaos soak, two engines, 9 messages in one run: the same MSH-10 twice, the history
showing attempt 1 again).

So a delivery is *in doubt* when it was held long enough for that (``held``: as long as a
quarter of the heartbeat, at most 5 s; the broker gives up after a whole heartbeat without a
frame), or received around a stall of the loop that long (the frames read as the engine wakes
were sent before the broker's close). One in doubt is confirmed with a round trip on its
channel before it is sent (``RabbitDelivery.confirm``): an answer there means the channel is
open, so the broker has not given the delivery to anyone else. The common delivery, taken and
sent within milliseconds by a loop that never stood still, is not asked about.

``LoopStalls`` tells the stalls: a timer ticks every ``TICK`` seconds, and a tick that comes
late by ``STALL_MIN`` or more marks the loop as having stood still between the two ticks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

#: How often the loop's stand-stills are looked for: a stall shorter than this is not told
#: apart from the tick's own wait, and it is far below any heartbeat's quarter.
TICK = 0.25

#: A tick this late or later is a stall worth keeping (shorter ones cannot matter: see
#: ``held``; the broker's heartbeat is at least a second).
STALL_MIN = 0.25

#: The stalls kept: the loop is busy after it wakes and may stand still a little again.
STALLS_KEPT = 16

#: The longest a delivery is held before it is confirmed, whatever the heartbeat.
HELD_MAX = 5.0


def held(heartbeat: float) -> float:
    """How long a delivery may be held, or how long the loop may have stood still, before the
    delivery is confirmed: a quarter of ``heartbeat`` (the broker closes a connection after a
    heartbeat without a frame, and the engine sends one every half), at most ``HELD_MAX``;
    ``HELD_MAX`` with no heartbeat (0: the broker never closes a silent connection)."""
    return min(HELD_MAX, heartbeat / 4) if heartbeat > 0 else HELD_MAX


class LoopStalls:
    """The event loop's recent stand-stills, told by a timer that comes late."""

    def __init__(self, tick: float = TICK) -> None:
        self._tick = tick
        self._last_tick: float | None = None  # None: not started, nothing told
        # (start, end, length) in loop time: the tick before and the late tick.
        self._stalls: collections.deque[tuple[float, float, float]] = collections.deque(
            maxlen=STALLS_KEPT
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._last_tick = asyncio.get_running_loop().time()
            self._task = asyncio.create_task(self._run(), name="loop-stalls")

    def started_at(self, now: float) -> None:
        """Count from ``now`` (loop time), as ``start`` does, without the timer (a test's)."""
        self._last_tick = now

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._tick)
            self.ticked(loop.time())

    def ticked(self, now: float) -> None:
        """The tick came at ``now`` (loop time): late by ``STALL_MIN`` or more, the loop stood
        still since the one before."""
        last = now if self._last_tick is None else self._last_tick
        late = now - last - self._tick
        if late >= STALL_MIN:
            self._stalls.append((last, now, late))
        self._last_tick = now

    def in_doubt(self, received_at: float, within: float, now: float | None = None) -> bool:
        """Whether a delivery received at ``received_at`` (loop time) may have been given to
        another consumer since: held ``within`` seconds or more, received around a stall of
        ``within`` or more, or the loop standing still that long right now (the tick that would
        tell it has not run yet: the loop just woke). ``now``: the loop's time, unless given."""
        if now is None:
            now = asyncio.get_running_loop().time()
        if now - received_at >= within:
            return True
        if self._last_tick is not None and now - self._last_tick - self._tick >= within:
            return True
        return any(
            length >= within and start <= received_at <= end + within
            for start, end, length in self._stalls
        )
