"""Large batches of events prepared (validated, routed, mapped) in a process beside the engine.

Preparing an event (``integrator.preparing``) is about half of the event loop's work per event
in a burst, and delivery needs none of it: on the loop, a batch being prepared holds the MLLP
round trips, the store's replies and the confirms back. In a process of its own it uses a
second core while the loop delivers: 1.3-1.9x the events per second end to end on two cores
nothing else used. Only where there is one to spare: with the second core taken it won nothing
(0.96-1.09x) for a little more CPU (bench/results/perf.md, "Eighth session"), and it costs some
95 MB and half a second at start; so it is off unless ``INTEGRATOR_PREPARE_PROCESS`` asks for
it, and only batches of ``MIN_BATCH`` events or more go there (a single event's round trip
would only add to its latency).

A ``ProcessPoolExecutor`` of one, started with ``spawn`` (a fork would copy the engine's
threads' locks held at that moment); the settings go once, at its start, and each batch carries
the time, the born-by date and the destinations of its providers as the loop saw them (a
reloaded catalog applies from the next batch, as on the loop). Nothing is committed before a
batch comes back, so a process that ends under a batch (killed, out of memory) loses nothing:
the batch is prepared on the loop instead, and a new process started for the next. One that
cannot start at all leaves the engine preparing on its loop, saying so; one that does not end
at the engine's stop is killed after ``CLOSE_WAIT_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from destinations.config import DestinationConfig
from integrator.logging import configure_logging, get_logger
from integrator.preparing import Prepared, prepare, validated
from integrator.settings import Settings
from schemas import EventValidationError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = get_logger("integrator.prepare_process")

MIN_BATCH = 32
"""Batches smaller than this are prepared on the loop: the process's round trip (pickling the
events there and the messages back) pays only when spread over many events."""


MAX_BATCH_BYTES = 16 * 1024 * 1024
"""Batches larger than this (referrals with large attachments) are prepared on the loop: the
copies there and back would hold the attachments two or three times over, for a gain that
the attachments' own bytes (slots, not escaped: ``mappings.slots``) hardly leave."""

CLOSE_WAIT_S = 5.0
"""How long the engine's stop waits for the process to end (a batch it is preparing) before it
kills it: nothing of a batch not yet back is committed, so nothing is lost."""


def worth_it(raws: Sequence[bytes | str | Mapping[str, Any]]) -> bool:
    """Whether a batch goes to the process: at least ``MIN_BATCH`` events, ``MAX_BATCH_BYTES``
    at most (events given as parsed JSON count as small)."""
    if len(raws) < MIN_BATCH:
        return False
    size = sum(len(raw) for raw in raws if isinstance(raw, bytes | str))
    return size <= MAX_BATCH_BYTES


PARENT_CHECK_S = 1.0
"""How often the process looks whether the engine that started it is still there."""

Outcome = Prepared | EventValidationError
"""What comes back for each event: ready to commit, or the rules it broke (kept by the caller)."""

_settings: Settings | None = None
_zone: tzinfo | None = None


def _start(settings: Settings) -> None:
    """In the process: what every batch needs, given once.

    It ignores SIGINT and SIGTERM: a Ctrl-C in a terminal, or a service manager stopping the
    engine's whole group, reaches it too, and the engine's own graceful stop (which may still
    hand it a batch) ends it. An engine killed outright never says so, and the process would
    wait for its next batch for ever (it holds its own end of the pipe open): it watches
    whether the engine is still its parent, and ends when not."""
    global _settings, _zone
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Nothing prepared here logs today; whatever would, logs as the engine does (its format
    # and level, to stderr), not in structlog's default form on stdout.
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    _settings, _zone = settings, settings.zone
    engine = os.getppid()
    threading.Thread(target=_end_with, args=(engine,), name="end-with-engine", daemon=True).start()


def _end_with(engine: int) -> None:
    """In the process: end it once ``engine`` is no longer its parent (it died)."""
    while os.getppid() == engine:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _pid() -> int:
    """In the process: its pid."""
    return os.getpid()


def _prepare_batch(
    raws: Sequence[bytes | str | Mapping[str, Any]],
    source: str,
    now: datetime,
    born_by: date,
    routes: Mapping[str, Sequence[DestinationConfig]],
    caller: str | None,
) -> list[Outcome]:
    """In the process: each event of the batch prepared, or the rules it broke."""
    assert _settings is not None and _zone is not None
    outcomes: list[Outcome] = []
    for raw in raws:
        try:
            event = validated(raw, born_by)
        except EventValidationError as exc:
            outcomes.append(exc)
            continue
        serving = routes.get(event.provider.id, ())
        outcomes.append(prepare(event, source, now, serving, _settings, _zone, caller=caller))
    return outcomes


def _broken() -> type[Exception]:
    """``BrokenProcessPool``, imported once a pool exists (``PrepareProcess._new_pool``)."""
    from concurrent.futures.process import BrokenProcessPool

    return BrokenProcessPool


class PrepareProcess:
    """One process that prepares batches of events; ``prepare`` says None when it could not."""

    def __init__(self, settings: Settings, restarted: Callable[[], object] | None = None) -> None:
        """``restarted``: told each time the process ended and a new one is started (the
        ``integrator_prepare_process_restarts`` counter)."""
        self._settings = settings
        self._restarted = restarted
        self._pool: ProcessPoolExecutor | None = None
        self.pid: int | None = None  # the process's, once started (``ps``, tests)
        self._spawned: asyncio.Future[None] | None = None  # a new process starting

    async def start(self) -> None:
        """Start the process and wait until it has imported what it runs. One that cannot
        start is said at ``error``, and every batch is prepared on the loop: the engine runs as
        without the setting rather than not at all."""
        pool = self._new_pool()
        try:
            self.pid = await asyncio.get_running_loop().run_in_executor(pool, _pid)
        except (_broken(), OSError) as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            log.error(
                "the process preparing events could not start; events are prepared on the "
                "engine's loop (INTEGRATOR_PREPARE_PROCESS)",
                error_type=type(exc).__name__,
            )
            return
        self._pool = pool

    def _new_pool(self) -> ProcessPoolExecutor:
        # Imported here: every command imports intake, and only an engine with the setting on
        # needs multiprocessing (some 3 ms of start-up for the others).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self._settings,),
        )

    async def prepare(
        self,
        raws: Sequence[bytes | str | Mapping[str, Any]],
        source: str,
        now: datetime,
        born_by: date,
        routes: Mapping[str, Sequence[DestinationConfig]],
        *,
        caller: str | None = None,
    ) -> list[Outcome] | None:
        """Each event of ``raws`` prepared, in order; None when the process ended under the
        batch (the caller prepares it itself; the next batch goes to a new process).
        ``routes``: the destinations each provider's events go to, as the caller routes.
        ``caller``: who sent them (``Intake.submit_many``), kept with each event."""
        pool = self._pool
        if pool is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                pool, _prepare_batch, raws, source, now, born_by, routes, caller
            )
        except _broken():
            log.error(
                "the process preparing events ended; this batch is prepared in the engine, "
                "and a new process started for the next",
                events=len(raws),
            )
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool, self.pid = self._new_pool(), None
                if self._restarted is not None:
                    self._restarted()
                self._spawned = asyncio.ensure_future(self._note_pid(self._pool))
            return None

    async def _note_pid(self, pool: ProcessPoolExecutor) -> None:
        """Start the new process now, not with the next batch, and note its pid."""
        with contextlib.suppress(Exception):  # ended again: the next batch says so
            pid = await asyncio.get_running_loop().run_in_executor(pool, _pid)
            if self._pool is pool:
                self.pid = pid

    @property
    def running(self) -> bool:
        """Whether batches go to the process (it started, and the engine has not stopped)."""
        return self._pool is not None

    async def close(self) -> None:
        """Stop the process: a batch it is preparing is waited for, ``CLOSE_WAIT_S`` at most."""
        pool, pid = self._pool, self.pid
        self._pool = self.pid = None
        if self._spawned is not None:
            await self._spawned
        if pool is None:
            return
        shutdown = functools.partial(pool.shutdown, wait=True, cancel_futures=True)
        ended = asyncio.get_running_loop().run_in_executor(None, shutdown)
        try:
            await asyncio.wait_for(asyncio.shield(ended), CLOSE_WAIT_S)
        except TimeoutError:
            log.warning("the process preparing events did not end; killing it", pid=pid)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await ended
