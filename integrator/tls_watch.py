"""A destination's TLS file gone or unusable while the engine runs, told in the log.

Delivery loads a destination's TLS files when its delivery starts, and again at a new
connection once one of them changed (``destinations.tls.RenewedTlsContext``); files that do not
load leave the certificate and key loaded before in use, and a connection already open goes on.
So a key file removed, or made unreadable, under a running engine was silent: deliveries went
on, the scrape said the destination's file was refused, and the log said nothing until the
next start of that delivery (a restart, a resume, a change), when every attempt failed.

The watch looks at the files of every destination in service every ``POLL_EVERY`` seconds (a
``stat`` and an ``access`` each; a file is loaded again only when its stamp changed) and tells
a file that stops working as an outage is told (``integrator.log_throttle``): one warning naming
the destination, the setting and the file's path (the operator's own configuration, never what
the file holds), then at most one a minute while it lasts, and one line when it works again.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from destinations.config import TlsSettings
from destinations.tls_files import FileStamp, ca_problem, file_stamp, pair_problem
from integrator.catalog import Catalog
from integrator.eventloop import stop_task
from integrator.log_throttle import Clock, LogThrottle
from integrator.logging import get_logger

log = get_logger("integrator.tls_watch")

POLL_EVERY: Final = 10.0
"""Seconds between two looks at the files: what a file gone waits, at most, to be told."""

UNUSABLE: Final = "destination TLS file unusable"
STILL: Final = "destination TLS file still unusable"
USABLE: Final = "destination TLS file usable again"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Why one of a destination's TLS files does not work: the setting that names it, its
    path, and the rule, in the words a definition naming it is refused with."""

    setting: str
    file: Path
    problem: str


def _there(setting: str, path: Path) -> FileProblem | None:
    if not path.is_file():
        return FileProblem(setting, path, "file does not exist")
    if not os.access(path, os.R_OK):
        return FileProblem(setting, path, "file is not readable")
    return None


def _loads(tls: TlsSettings) -> FileProblem | None:
    """Whether the files load as what they are named for (all there and readable)."""
    if tls.ca_file is not None:
        why = ca_problem(tls.ca_file)
        if why is not None:
            rule = f"could not be loaded as CA certificates ({why})"
            return FileProblem("tls.ca_file", tls.ca_file, rule)
    if tls.cert_file is None:
        return None
    why = ca_problem(tls.cert_file)
    if why is not None:
        return FileProblem(
            "tls.cert_file", tls.cert_file, f"could not be loaded as a certificate ({why})"
        )
    why = pair_problem(tls.cert_file, tls.key_file)
    if why is None:
        return None
    if tls.key_file is None:
        rule = f"could not be loaded: tls.cert_file holds no key of its own to use ({why})"
        return FileProblem("tls.cert_file", tls.cert_file, rule)
    rule = f"could not be loaded as the key of tls.cert_file ({why})"
    return FileProblem("tls.key_file", tls.key_file, rule)


_Named = tuple[Path | None, Path | None, Path | None]


class TlsFileChecks:
    """The first problem of a destination's TLS files (``problem``), loading them again only
    when a stamp changed; whether each is there and readable is asked every time (a ``chmod``
    changes no stamp)."""

    def __init__(self) -> None:
        self._loads: dict[_Named, tuple[tuple[FileStamp | None, ...], FileProblem | None]] = {}

    def problem(self, tls: TlsSettings | None) -> FileProblem | None:
        if tls is None:
            return None
        named: _Named = (tls.ca_file, tls.cert_file, tls.key_file)
        settings = ("tls.ca_file", "tls.cert_file", "tls.key_file")
        for setting, path in zip(settings, named, strict=True):
            missing = None if path is None else _there(setting, path)
            if missing is not None:
                return missing
        stamps = tuple(None if path is None else file_stamp(path) for path in named)
        known = self._loads.get(named)
        if known is not None and known[0] == stamps:
            return known[1]
        found = _loads(tls)
        self._loads[named] = (stamps, found)
        return found

    def keep_only(self, catalog: Catalog) -> None:
        """Forget the files no destination in service names any more."""
        named = {
            (c.tls.ca_file, c.tls.cert_file, c.tls.key_file)
            for c in catalog.destinations.values()
            if c.tls is not None
        }
        self._loads = {files: found for files, found in self._loads.items() if files in named}


class _Told:
    """One destination's problem being told, and its throttle."""

    __slots__ = ("problem", "throttle")

    def __init__(self, problem: FileProblem, clock: Clock) -> None:
        self.problem = problem
        self.throttle = LogThrottle(first=1, clock=clock)


class TlsFileWatch:
    """Looks at the TLS files of the destinations in service (``in_service``: None while the
    engine starts) and tells each one that stops working, and when it works again."""

    def __init__(
        self,
        in_service: Callable[[], Catalog | None],
        *,
        interval: float = POLL_EVERY,
        clock: Clock = time.monotonic,
    ) -> None:
        self._in_service = in_service
        self.interval = interval
        self.clock = clock
        self._checks = TlsFileChecks()
        self._told: dict[str, _Told] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tls-file-watch")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                self.look()  # a stat and an access a file; a load only after a change
            except Exception as exc:  # keep watching: the next look may do
                log.error("looking at the TLS files failed", error_type=type(exc).__name__)
            await asyncio.sleep(self.interval)

    def look(self) -> None:
        """Look at every in-service destination's files once, and log what changed."""
        catalog = self._in_service()
        if catalog is None:
            return
        for dest_id in [d for d in self._told if d not in catalog.destinations]:
            del self._told[dest_id]  # removed or renamed: nothing more to say of it
        for dest_id, config in sorted(catalog.destinations.items()):
            self._tell(dest_id, self._checks.problem(config.tls))
        self._checks.keep_only(catalog)

    def _tell(self, dest_id: str, problem: FileProblem | None) -> None:
        told = self._told.get(dest_id)
        if problem is None:
            if told is not None:
                del self._told[dest_id]
                ended = told.throttle.ended()
                log.info(
                    USABLE,
                    destination=dest_id,
                    setting=told.problem.setting,
                    file=str(told.problem.file),
                    failed_for_s=round(ended.down_for) if ended is not None else 0,
                )
            return
        if told is None or told.problem != problem:  # a new problem is told from its start
            told = self._told[dest_id] = _Told(problem, self.clock)
        line = told.throttle.failed()
        if line is None:
            return
        fields = {
            "destination": dest_id,
            "setting": problem.setting,
            "file": str(problem.file),
            "problem": problem.problem,
        }
        if line.full:
            log.warning(UNUSABLE, **fields)
        else:
            log.warning(STILL, **fields, failing_for_s=round(line.down_for))
