"""Whether a running engine has applied a pause or a resume made through the files and the store.

``integrator destinations pause`` writes the destination's file and records the revision; the
engine running on the store applies it only when its watcher sees the file (within a second,
``integrator.watcher``), and a pause only once the attempt on the wire to that destination is
finished and recorded (at most its connect and ACK timeouts). Until then it delivers on, so a
command that says "paused" the moment the file is written says what has not happened yet.

The engine records what it applied in the store (``Store.observe_enabled``: ``paused_at`` when
it stopped delivering, cleared with ``resumed_at`` at a resume), after it stopped the
destination's delivery loop, so the command reads it back there, whatever process or machine
the engine runs on, and waits a bounded time for it (``wait_s``). The HTTP API needs none of
this: its engine applies a change before it answers.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from destinations.config import DestinationConfig
from integrator.presence import running_engines
from integrator.store import DestinationPause, Store
from integrator.watcher import POLL_EVERY

APPLY_MARGIN_S: Final = 6.0
"""Beyond the watcher's poll and an attempt on the wire: the engine's own margin when it
finishes an attempt at a stop (5 s, ``integrator.delivery``), then it reads the files, records
the change and stops or starts the delivery loop, a moment on a loaded machine."""

LOOK_FOR_ENGINES_EVERY_S: Final = 1.0
"""How often, while waiting, the command looks whether an engine still runs on the store: one
that stopped (or was stopped) before it applied the change never will."""

LOOK_EVERY_S: Final = 0.2
"""How often the store is read while waiting: a read of one row."""


@dataclass(frozen=True, slots=True)
class EngineApplied:
    """What became of a pause or a resume in the engines running on the store.

    ``engines``: how many ran there when the change was made (0: none, and the next to start
    applies it). ``at``: when an engine applied it (stopped delivering, or delivered again),
    None when none had within ``waited_s``. ``already``: the engine had the destination so
    before this change (it had not taken in the change before it), ``at`` being since when.
    """

    engines: int
    at: datetime | None = None
    already: bool = False
    waited_s: float = 0.0
    stopped: bool = False
    """The engines that ran when the change was made stopped before one applied it: none
    runs on the store now, and the next to start applies it."""


def wait_s(config: DestinationConfig | None, *, enabled: bool) -> float:
    """The most to wait for the engine: its watcher's poll, for a pause an attempt on the wire
    to the destination (its connect timeout and twice its ACK timeout: in enhanced mode an
    attempt waits for two ACKs, as the engine's own stop does), and ``APPLY_MARGIN_S``. A
    resume waits for no attempt."""
    if enabled:
        return float(math.ceil(POLL_EVERY + APPLY_MARGIN_S))
    fields = DestinationConfig.model_fields
    connect = config.connect_timeout if config else float(fields["connect_timeout"].default)
    ack = config.ack_timeout if config else float(fields["ack_timeout"].default)
    return float(math.ceil(POLL_EVERY + connect + 2 * ack + APPLY_MARGIN_S))


async def engine_applies(
    store: Store,
    destination_id: str,
    *,
    enabled: bool,
    before: DestinationPause | None,
    wait: float,
    waiting: Callable[[float], None],
) -> EngineApplied:
    """Wait at most ``wait`` s until an engine running on ``store`` has applied ``enabled``
    for the destination, ``before`` being its pause row as read before the change was made;
    ``waiting`` is told the bound once, when there is an engine to wait for."""
    engines = len(await running_engines(store))
    if engines == 0:
        return EngineApplied(0)
    if enabled and (before is None or before.paused_at is None):
        # No engine saw the pause this resumes: its delivery loop never stopped for it.
        return EngineApplied(engines, before.resumed_at if before else None, already=True)
    if not enabled and before is not None and before.paused_at is not None:
        # Seen paused, and no resume seen since: the engine does not deliver to it.
        return EngineApplied(engines, before.paused_at, already=True)
    waiting(wait)
    started = looked = time.monotonic()
    while True:
        row = await store.destination_pause(destination_id)
        if enabled and row is not None and row.paused_at is None:
            return EngineApplied(engines, row.resumed_at, waited_s=time.monotonic() - started)
        if not enabled and row is not None and row.paused_at is not None:
            return EngineApplied(engines, row.paused_at, waited_s=time.monotonic() - started)
        now = time.monotonic()
        if now - started >= wait:
            return EngineApplied(engines, waited_s=wait)
        if now - looked >= LOOK_FOR_ENGINES_EVERY_S:
            looked = now
            if not await running_engines(store):
                return EngineApplied(engines, waited_s=now - started, stopped=True)
        await asyncio.sleep(LOOK_EVERY_S)
