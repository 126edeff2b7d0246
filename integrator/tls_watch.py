"""A destination's TLS file gone or unusable while the engine runs, told in the log.

Delivery loads a destination's TLS files when its delivery starts, and again at a new
connection once one of them changed (``destinations.tls.RenewedTlsContext``); files that do not
load leave the certificate and key loaded before in use, and a connection already open goes on.
So a key file removed, or made unreadable, under a running engine was silent: deliveries went
on, the scrape said the destination's file was refused, and the log said nothing until the
next start of that delivery (a restart, a resume, a change), when every attempt failed.

The watch looks at the files of every destination in service, paused ones too (a resume loads
them), every ``POLL_EVERY`` seconds: each file once per look however many destinations name it
(a ``stat`` and an ``access``; a file is loaded again only when its stamp changed). A file that
stops working is told as an outage is told (``integrator.log_throttle``), per file, not per
destination: many destinations share one CA file, and a line for each of them said the same
thing hundreds of times. One warning names the file's path, the setting(s) naming it (the
operator's own configuration, never what the file holds) and the destinations it fails for;
then at most one a minute while it lasts; and one line when it ends: it works again, or no
destination names it any more (an edit naming another file, the destination removed).
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from destinations.config import IS_DIRECTORY, TlsSettings
from destinations.tls_files import FileStamp, ca_problem, pair_problem
from integrator.catalog import Catalog
from integrator.eventloop import stop_task
from integrator.log_throttle import Clock, LogThrottle
from integrator.logging import get_logger

log = get_logger("integrator.tls_watch")

POLL_EVERY: Final = 10.0
"""Seconds between two looks at the files: what a file gone waits, at most, to be told."""

NAMED_AT_MOST: Final = 10
"""Destinations a line names by id; past that it says how many more (``destination_count``
has them all)."""

UNUSABLE: Final = "destination TLS file unusable"
STILL: Final = "destination TLS file still unusable"
USABLE: Final = "destination TLS file usable again"
UNUSED: Final = "destination TLS file no longer used"

_SETTINGS: Final = ("tls.ca_file", "tls.cert_file", "tls.key_file")


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Why one of a destination's TLS files does not work: the setting that names it, its
    path, and the rule, in the words a definition naming it is refused with."""

    setting: str
    file: Path
    problem: str


@dataclass(frozen=True, slots=True)
class Seen:
    """A file as one look found it: why it cannot even be read (``missing``), else its stamp,
    which tells whether it must be loaded again."""

    missing: str | None
    stamp: FileStamp | None


def look_at(path: Path) -> Seen:
    """A ``stat`` and an ``access``: whether the file is there, a file and readable (a
    ``chmod`` changes no stamp, so it is asked every time), and its stamp."""
    try:
        found = os.stat(path)
    except PermissionError:  # a directory on its way the engine may not enter
        return Seen("file is not readable", None)
    except OSError:
        return Seen("file does not exist", None)
    if stat.S_ISDIR(found.st_mode):
        return Seen(IS_DIRECTORY, None)
    if not stat.S_ISREG(found.st_mode):
        return Seen("file does not exist", None)
    if not os.access(path, os.R_OK):
        return Seen("file is not readable", None)
    return Seen(None, (found.st_ino, found.st_size, found.st_mtime_ns))


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


def _named(tls: TlsSettings) -> _Named:
    return (tls.ca_file, tls.cert_file, tls.key_file)


class TlsFileChecks:
    """What is wrong with a destination's TLS files: each file that is not there or not
    readable, else the first that does not load, loaded again only when a stamp changed."""

    def __init__(self) -> None:
        self._loads: dict[_Named, tuple[tuple[FileStamp | None, ...], FileProblem | None]] = {}

    def problems(
        self, tls: TlsSettings | None, look: Callable[[Path], Seen] = look_at
    ) -> tuple[FileProblem, ...]:
        """``look`` is how a file is looked at: the watch passes one that looks at each file
        once per look, whichever destinations name it."""
        if tls is None:
            return ()
        named = _named(tls)
        seen = [None if path is None else look(path) for path in named]
        missing = tuple(
            FileProblem(setting, path, found.missing)
            for setting, path, found in zip(_SETTINGS, named, seen, strict=True)
            if path is not None and found is not None and found.missing is not None
        )
        if missing:
            return missing
        stamps = tuple(None if found is None else found.stamp for found in seen)
        known = self._loads.get(named)
        if known is not None and known[0] == stamps:
            loaded = known[1]
        else:
            loaded = _loads(tls)
            self._loads[named] = (stamps, loaded)
        return () if loaded is None else (loaded,)

    def problem(self, tls: TlsSettings | None) -> FileProblem | None:
        """The first of ``problems``."""
        found = self.problems(tls)
        return found[0] if found else None

    def keep_only(self, catalog: Catalog) -> None:
        """Forget the files no destination in service names any more."""
        named = {_named(c.tls) for c in catalog.destinations.values() if c.tls is not None}
        self._loads = {files: found for files, found in self._loads.items() if files in named}


def some(ids: Sequence[str]) -> str:
    """Destination ids for a log line: the first ``NAMED_AT_MOST``, then how many more."""
    shown = ", ".join(ids[:NAMED_AT_MOST])
    rest = len(ids) - NAMED_AT_MOST
    return f"{shown} and {rest} more" if rest > 0 else shown


@dataclass(frozen=True, slots=True)
class _Failing:
    """One file's trouble as one look found it, in the words of its log line."""

    settings: str
    problem: str
    destinations: tuple[str, ...]

    @classmethod
    def of(cls, by_destination: dict[str, FileProblem]) -> _Failing:
        found = by_destination.values()
        return cls(
            settings=", ".join(sorted({p.setting for p in found})),
            problem="; ".join(sorted({p.problem for p in found})),
            destinations=tuple(sorted(by_destination)),
        )

    def fields(self) -> dict[str, Any]:
        return {
            "setting": self.settings,
            "problem": self.problem,
            "destinations": some(self.destinations),
            "destination_count": len(self.destinations),
        }


class _Told:
    """One file's trouble being told: as the last look found it, and its throttle."""

    __slots__ = ("failing", "throttle")

    def __init__(self, failing: _Failing, clock: Clock) -> None:
        self.failing = failing
        self.throttle = LogThrottle(first=1, clock=clock)


class TlsFileWatch:
    """Looks at the TLS files of the destinations in service (``in_service``: None while the
    engine starts) and tells each file that stops working, and when its trouble ends."""

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
        self._told: dict[Path, _Told] = {}
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
        """Look at each file the destinations in service name once, and log what changed."""
        catalog = self._in_service()
        if catalog is None:
            return
        seen: dict[Path, Seen] = {}
        users: dict[Path, list[str]] = {}
        failing: dict[Path, dict[str, FileProblem]] = {}
        unloaded: set[Path] = set()  # there, but not loaded: a file beside them is missing

        def look_once(path: Path) -> Seen:
            if path not in seen:
                seen[path] = look_at(path)
            return seen[path]

        for dest_id, config in sorted(catalog.destinations.items()):
            if config.tls is None:
                continue
            named = {p for p in _named(config.tls) if p is not None}
            for path in named:
                users.setdefault(path, []).append(dest_id)
            problems = self._checks.problems(config.tls, look_once)
            for problem in problems:
                failing.setdefault(problem.file, {})[dest_id] = problem
            if any(look_once(p).missing for p in named):
                unloaded.update(p for p in named if not look_once(p).missing)
        for path in sorted({*self._told, *failing}):
            if path in failing:
                self._tell_failing(path, _Failing.of(failing[path]))
            elif path not in unloaded:  # a key that did not load is not "usable" unloaded
                self._tell_ended(path, users.get(path, []))
        self._checks.keep_only(catalog)

    def _tell_failing(self, path: Path, failing: _Failing) -> None:
        told = self._told.get(path)
        if told is None or told.failing.problem != failing.problem:
            told = self._told[path] = _Told(failing, self.clock)  # a new problem: from its start
        told.failing = failing  # the settings and destinations as they are now
        line = told.throttle.failed()
        if line is None:
            return
        if line.full:
            log.warning(UNUSABLE, file=str(path), **failing.fields())
        else:
            log.warning(
                STILL, file=str(path), **failing.fields(), failing_for_s=round(line.down_for)
            )

    def _tell_ended(self, path: Path, users: list[str]) -> None:
        """Its trouble ended: it works for every destination naming it, or none names it any
        more (then it may well be missing still, and the line says which it was)."""
        told = self._told.pop(path)
        ended = told.throttle.ended()
        failed_for_s = round(ended.down_for) if ended is not None else 0
        if users:
            log.info(
                USABLE,
                file=str(path),
                setting=told.failing.settings,
                destinations=some(users),
                destination_count=len(users),
                failed_for_s=failed_for_s,
            )
        else:
            log.info(
                UNUSED,
                file=str(path),
                setting=told.failing.settings,
                problem=told.failing.problem,
                failed_for_s=failed_for_s,
            )
