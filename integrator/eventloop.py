"""Which event loop the commands run on: uvloop where it is installed, asyncio's own otherwise.

The engine is one event loop doing AMQP, PostgreSQL and MLLP I/O for every message; uvloop's
loop and transports cost it measurably less CPU per message (``bench/bench_rabbitmq.py``). The
code itself is loop-agnostic: in-process tests run on asyncio's loop, the tests that start
``integrator`` as a process run it on uvloop, and the MLLP client and receiver are tested on
both. ``INTEGRATOR_EVENT_LOOP=asyncio`` switches uvloop off.

A command ends when its coroutine has returned and the tasks it left running have ended, but
not later than ``LEFTOVERS_S`` after: ``asyncio.run`` waits for those tasks without bound, and
a task that does not end when cancelled kept ``integrator run`` alive after "engine stopped"
until the supervisor killed it. One such task is SQLAlchemy's close of an aiosqlite connection
whose query the stop gave up on: shielded, it waits for aiosqlite's worker thread, which first
finishes the query (a scan of a large store: seconds, minutes) and may then already have ended,
so that the close waits for an answer that never comes. What the end gives up on was work the
command itself had already given up (its stop's steps are bounded, ``engine._on_stop``): a read,
or a write that was never committed and is rolled back as after a crash.

The same ``LEFTOVERS_S`` bounds the wait for the calls still running on the loop's threads
(``asyncio.to_thread``, a name lookup on asyncio's loop): asyncio's runner, and the interpreter's
exit after it, waited for those without bound too, so an SMTP server that accepts and never
answers held the end the same way. They run on daemon threads (``integrator.loopthreads``) that
the end names and leaves behind: the process's exit ends them where they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from integrator.logging import get_logger
from integrator.loopthreads import DaemonThreads

T = TypeVar("T")

LoopKind = Literal["uvloop", "asyncio"]

LEFTOVERS_S = 2.0
"""How long a command's end waits for the tasks still running when its coroutine returned
(cancelled first), and for the calls still running on the loop's threads, in all, before it
closes the loop without them."""

log = get_logger("integrator.eventloop")


def run(coro: Coroutine[Any, Any, T], kind: LoopKind = "uvloop") -> T:
    """``asyncio.run`` on the chosen loop (asyncio's own where uvloop is not installed), whose
    end waits at most ``LEFTOVERS_S`` for the tasks left running.

    uvloop's loop, once closed, still cuts the process's next blocking wait short a few
    milliseconds later (libuv's io_uring teardown; stdout itself stays blocking): a large write
    to a pipe then takes only part of its bytes. The CLI's stdout finishes such writes
    (``integrator.cli.output``); anything else that writes after this returns must too.
    """
    runner = asyncio.Runner(loop_factory=_loop_factory(kind))  # its Ctrl-C handling too
    threads = DaemonThreads()
    runner.get_loop().set_default_executor(threads)
    try:
        return runner.run(coro)
    finally:
        _end(runner, threads)


def _loop_factory(kind: LoopKind) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop maker for ``uvloop`` where it is installed; None: asyncio's own loop."""
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:  # e.g. Windows, where uvloop does not exist
            return None
        return uvloop.new_event_loop
    return None


def _end(runner: asyncio.Runner, threads: DaemonThreads) -> None:
    """``runner.close``, unless tasks still run ``LEFTOVERS_S`` after they were cancelled: then
    the loop is closed without them, and they are named. Calls still running on the loop's
    threads by then (``LEFTOVERS_S`` after the start of the end, in all) are named and left."""
    loop = runner.get_loop()
    began = time.monotonic()
    abandoned = _cancel_within(loop, LEFTOVERS_S)
    calls = threads.wait_idle(max(0.0, began + LEFTOVERS_S - time.monotonic()))
    if calls:
        log.warning(
            "stopping: gave up waiting for calls on the loop's threads",
            calls=calls,
            after_s=LEFTOVERS_S,
        )
    if not abandoned:
        runner.close()  # asyncio's own end: async generators, the default executor (at once)
        return
    log.warning(
        "stopping: gave up waiting for unfinished tasks",
        tasks=[_named(task) for task in abandoned],
        after_s=LEFTOVERS_S,
    )
    for task in abandoned:
        # Given up on knowingly and said above; not again as "destroyed but pending".
        task._log_destroy_pending = False  # type: ignore[attr-defined]
    asyncio.set_event_loop(None)
    loop.close()


def _cancel_within(loop: asyncio.AbstractEventLoop, within: float) -> list[asyncio.Task[Any]]:
    """Cancel the loop's tasks and wait up to ``within`` for them; those still running.

    An exception a task ended with goes to the loop's handler, as ``asyncio.run`` does.
    """
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return []
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.wait(tasks, timeout=within))
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during the end of the command",
                    "exception": task.exception(),
                    "task": task,
                }
            )
    return sorted((task for task in tasks if not task.done()), key=_named)


def _named(task: asyncio.Task[Any]) -> str:
    """A task as the log names it: its name and its coroutine's, never its arguments."""
    coro = task.get_coro()
    return f"{task.get_name()} ({getattr(coro, '__qualname__', type(coro).__name__)})"


STOP_TASK_S = 5.0
"""How long a background loop is given to end once cancelled, asked again every second."""


async def stop_task(task: asyncio.Task[Any] | None, *, within: float = STOP_TASK_S) -> None:
    """Cancel a background loop and wait until it has stopped; None: nothing runs.

    The engine's parts each run one such loop (the daily prune, the destinations watcher, the
    presence heartbeat, the AMQP link and intake, the recovery leader) and stop it the same way.

    Bounded: a loop that takes a cancellation for one from elsewhere (a library ending its own
    call as cancelled looks the same) and goes on would hold the engine's stop, and SIGTERM,
    for good (seen once: over eleven minutes, until a SIGKILL). It is cancelled again each
    second and, still running after ``within``, left behind with an error naming it: the
    engine's stop goes on, its process ends with the loop.
    """
    if task is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done():
        task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            log.error(
                "a background task did not stop when cancelled; the stop goes on without it",
                task=_named(task),
                waited_s=within,
            )
            return
        await asyncio.wait({task}, timeout=min(1.0, left))
    if not task.cancelled():
        task.result()  # a loop that failed raises here, as awaiting it did
