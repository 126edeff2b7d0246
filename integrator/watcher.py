"""Notice changes in the destinations directory, so a hand edit or a CLI change applies itself.

Polling a small directory's names, sizes and modification times once a second is cheap, works on
every filesystem (including network mounts where inotify does not), and needs no dependency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from integrator.eventloop import stop_task
from integrator.logging import get_logger

log = get_logger("integrator.watcher")

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return ()
    marks = []
    for entry in entries:
        if entry.suffix not in (".yaml", ".yml") or entry.name.startswith("."):
            continue  # what the loader does not read (an editor's hidden files) changes nothing
        try:
            stat = entry.stat()
        except OSError:
            continue
        marks.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(marks))


class DirectoryWatcher:
    def __init__(
        self,
        directory: Path,
        on_change: Callable[[], Awaitable[object]],
        *,
        interval: float = 1.0,
    ) -> None:
        self._directory = directory
        self._on_change = on_change
        self._interval = interval
        self._seen = fingerprint(directory)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="destinations-watcher")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            current = fingerprint(self._directory)
            if current == self._seen:
                continue
            self._seen = current
            try:
                await self._on_change()
            except Exception as exc:  # keep watching: the next change may fix it
                log.error("applying destination files failed", error_type=type(exc).__name__)
