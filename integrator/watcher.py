"""Notice changes in the destinations directory, so a hand edit or a CLI change applies itself.

Polling a small directory's names, sizes and modification times once a second is cheap, works on
every filesystem (including network mounts where inotify does not), and needs no dependency.

Each entry's type and inode change time count too: a file turned into a directory or a link
to nothing, or made unreadable (``chmod``, which changes no modification time), is refused by
the loader, and that refusal must be shown and audited when it happens, not at the next edit.
A link to nothing is marked by the link itself, as it has nothing else to stat.

Applying can fail for a reason that passes (the store away for a moment while a change is
recorded). The change is then still owed: it is tried again, a second, two, four... up to
:data:`RETRY_AT_MOST` apart, until it applies or the files change again. Taken as seen, it
would wait for the next edit of some file, and the destination would go on with its old
address while the file says the new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from destinations.config import named_like_a_destination_file
from integrator.eventloop import stop_task
from integrator.logging import get_logger

log = get_logger("integrator.watcher")

Fingerprint = tuple[tuple[str, int, int, int, int], ...]

RETRY_AT_MOST = 30.0
"""Seconds, at most, between two tries of a change whose applying failed."""

POLL_EVERY = 1.0
"""Seconds between two looks at the directory: what a change waits, at most, to be seen (a
command that waits for the engine to apply one counts with it)."""


def fingerprint(directory: Path) -> Fingerprint:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return ()
    marks = []
    for entry in entries:
        if not named_like_a_destination_file(entry):
            continue  # what the loader neither reads nor reports (hidden files) changes nothing
        try:
            stat = entry.stat()
        except OSError:
            try:
                stat = entry.lstat()  # a link to nothing is still an entry the loader refuses
            except OSError:
                continue  # gone since the directory was listed
        marks.append((entry.name, stat.st_mode, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size))
    return tuple(sorted(marks))


class DirectoryWatcher:
    def __init__(
        self,
        directory: Path,
        on_change: Callable[[], Awaitable[object]],
        *,
        interval: float = POLL_EVERY,
        seen: Fingerprint | None = None,
    ) -> None:
        self._directory = directory
        self._on_change = on_change
        self._interval = interval
        self._most_ticks = max(1, round(RETRY_AT_MOST / interval))
        # As the caller read the directory, taken before it did: an edit made since is a
        # change, not missed as it would be if taken now.
        self._seen = fingerprint(directory) if seen is None else seen
        self._again = False  # ``look_again``: the next poll applies, changed or not
        self._task: asyncio.Task[None] | None = None

    def look_again(self) -> None:
        """Apply the directory at the next poll even if it did not change: what was read may
        be overtaken by what the store says a moment later (a removal's revision commits
        just after its file is deleted), with nothing left in the directory to change."""
        self._again = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="destinations-watcher")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        failures = 0  # in a row, of the change last seen
        ticks_to_retry = 0  # polls to let pass before trying it again
        while True:
            await asyncio.sleep(self._interval)
            current = fingerprint(self._directory)
            if current != self._seen or self._again:
                self._again = False
                failures = 0  # a new change: tried at once, however the last one ended
            elif not failures:
                continue
            elif ticks_to_retry > 1:
                ticks_to_retry -= 1
                continue
            self._seen = current
            try:
                await self._on_change()
            except Exception as exc:  # keep watching; the change is still owed
                failures += 1
                ticks_to_retry = min(2 ** (failures - 1), self._most_ticks)
                log.error(
                    "applying destination files failed; trying again",
                    error_type=type(exc).__name__,
                    failures=failures,
                    retry_in_s=ticks_to_retry * self._interval,
                )
                continue
            if failures:
                log.info("destination files applied after failing", failures=failures)
            failures = 0
