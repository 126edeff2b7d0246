"""``integrator run``: the engine and its HTTP API in one process until SIGTERM or SIGINT.

SIGHUP reads the destination files again and applies them without a restart. On SIGTERM or
SIGINT the HTTP server stops taking requests, delivery loops are cancelled between or during
attempts (an unfinished attempt leaves the message queued, to be sent again with the same MSH-10
at the next start), recorded attempts are flushed, and the store is closed. Every accepted event
was committed before its 202 was sent, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from integrator.engine import Engine
from integrator.gcpolicy import tune_for_service
from integrator.http import create_app
from integrator.logging import get_logger

log = get_logger("integrator.run")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the engine owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_engine(engine: Engine, *, http: bool = True) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    await engine.start()
    tune_for_service()  # after start-up: what start-up built is never walked again
    reloads: set[asyncio.Task[object]] = set()

    def reload() -> None:
        task: asyncio.Task[object] = asyncio.create_task(engine.reload_destinations())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    server: _QuietServer | None = None
    server_task: asyncio.Task[None] | None = None
    if http:
        config = uvicorn.Config(
            create_app(engine),
            host=engine.settings.http_host,
            port=engine.settings.http_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = _QuietServer(config)
        server_task = asyncio.create_task(server.serve(), name="http")
        log.info(
            "http api listening", host=engine.settings.http_host, port=engine.settings.http_port
        )
    try:
        waiters = [asyncio.create_task(stop.wait())]
        if server_task is not None:
            waiters.append(server_task)  # type: ignore[arg-type]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if server_task is not None and server_task.done() and not stop.is_set():
            exc = server_task.exception()
            log.error("http api stopped unexpectedly", error_type=type(exc).__name__)
    finally:
        log.info("stopping")
        if server is not None and server_task is not None:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server_task, timeout=5)
        for task in list(reloads):
            await task
        await engine.stop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
