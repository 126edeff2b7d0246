"""Which event loop the commands run on: uvloop where it is installed, asyncio's own otherwise.

The engine is one event loop doing AMQP, PostgreSQL and MLLP I/O for every message; uvloop's
loop and transports cost it measurably less CPU per message (``bench/bench_rabbitmq.py``). The
code itself is loop-agnostic: in-process tests run on asyncio's loop, the tests that start
``integrator`` as a process run it on uvloop, and the MLLP client and receiver are tested on
both. ``INTEGRATOR_EVENT_LOOP=asyncio`` switches uvloop off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

LoopKind = Literal["uvloop", "asyncio"]


def run(coro: Coroutine[Any, Any, T], kind: LoopKind = "uvloop") -> T:
    """``asyncio.run`` on the chosen loop (asyncio's own where uvloop is not installed).

    uvloop's loop, once closed, still cuts the process's next blocking wait short a few
    milliseconds later (libuv's io_uring teardown; stdout itself stays blocking): a large write
    to a pipe then takes only part of its bytes. The CLI's stdout finishes such writes
    (``integrator.cli.output``); anything else that writes after this returns must too.
    """
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:  # e.g. Windows, where uvloop does not exist
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background loop and wait until it has stopped; None: nothing runs.

    The engine's parts each run one such loop (the daily prune, the destinations watcher, the
    presence heartbeat, the AMQP link and intake, the recovery leader) and stop it the same way.
    """
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
