"""``stop_task`` is bounded: a background loop that goes on after its cancellation (it took
it for a library's own, and retried) held the engine's stop, and SIGTERM, for over eleven
minutes until a SIGKILL (an operator review). Now it is asked again each second and, after its
bound, left behind with an error naming it."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from structlog.testing import capture_logs

from integrator.eventloop import stop_task


async def _stubborn(released: asyncio.Event) -> None:
    """A loop that swallows every cancellation until ``released``, as a retry loop mistaking
    it for a connection's own would."""
    while not released.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await released.wait()


async def test_a_loop_that_will_not_stop_is_left_with_an_error_naming_it() -> None:
    released = asyncio.Event()
    task = asyncio.create_task(_stubborn(released), name="amqp link")
    await asyncio.sleep(0)
    started = time.monotonic()
    with capture_logs() as logs:
        await asyncio.wait_for(stop_task(task, within=0.5), 10)  # old: waited for good
    assert time.monotonic() - started < 5  # bounded, not for good
    [said] = [e for e in logs if e["event"].startswith("a background task did not stop")]
    assert said["log_level"] == "error"
    assert said["task"].startswith("amqp link (_stubborn")
    assert not task.done()
    released.set()  # the test's own clean-up: let it end
    await asyncio.wait_for(task, 5)


async def test_a_loop_that_stops_once_asked_again_is_waited_for() -> None:
    """Cancelled twice before it ends (it swallowed the first), it is waited for, no error."""
    ended = asyncio.Event()

    async def once_deaf() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        try:
            await asyncio.sleep(3600)
        finally:
            ended.set()

    task = asyncio.create_task(once_deaf())
    await asyncio.sleep(0)
    with capture_logs() as logs:
        await stop_task(task, within=5)
    assert task.done() and ended.is_set()
    assert not [e for e in logs if e["log_level"] == "error"]


async def test_a_loop_that_failed_raises_as_awaiting_it_did() -> None:
    async def broken() -> None:
        raise RuntimeError("the loop's own failure")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="the loop's own failure"):
        await stop_task(task)
