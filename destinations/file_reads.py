"""What each destination file said when last read, so a file read again unchanged is not
parsed and validated again.

Every listing of the destinations (``integrator destinations list``, the API's, the console's
page) and every reload of the engine reads the whole directory: with 200 files, parsing the
YAML and validating the definitions was most of the time a listing spent on the files, for
files that had not changed since the last one. ``FileReads`` keeps, per file, its text and
what came of it.

A file is still read, every time: what is kept is used only when the text read now is the
very text read then. Not the file's size and modification time, which can stay the same
across an edit (two writes within the file system's clock tick, a tool that sets the time
back), and then a changed file would be listed as it was; comparing a few kilobytes of text
costs nothing beside parsing them. The YAML of a text is always the same, so its parse is
kept for every file, and so is its validation while what it depends on stays the same. For a
definition with ``tls`` that is also the certificate and key files it names, which can change,
be deleted or made unreadable while its destination's file stays as it was: each is looked at
again at every read (whether it is there, a regular file, readable, and a digest of its bytes:
what validating it reads, ``files_named``), and the definition is validated again when any of
that differs, so its refusal is shown when that happens. Validating it every time loaded the
certificates and keys at every read: 4 ms a destination with mutual TLS, 0.8 s for 200 of them
at every listing and at every refresh of the console's dashboard (every 5 s for each one open),
on the engine's event loop (bench/results/at-scale.md, twenty-first session). A file that
cannot be read, or is no file, is refused as before, each time (``read_destination_text``). A
file the directory no longer holds is forgotten at the next read of the directory.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    definition_of,
    destination_from_mapping,
    load_destination_files,
    parse_yaml,
)

Outcome = DestinationConfig | DestinationFileError
"""A validated definition, or the refusal of the file."""


@dataclass(frozen=True, slots=True)
class _Kept:
    text: str
    parsed: Any  # the mapping, or the refusal of the text (no YAML, not a mapping, a key twice)
    outcome: Outcome
    files: tuple[object, ...]  # the files it names as they were just before it was validated


class FileReads:
    """The destination files of one directory as last read (module docstring). One is kept
    by whatever reads the directory again and again: ``DestinationAdmin``, which the engine
    keeps for as long as it runs."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        # id() of a definition kept -> it and its plain data (``definition_of``); the
        # definition held, so its id() names no other object while it is here.
        self._plain: dict[int, tuple[DestinationConfig, dict[str, Any]]] = {}

    def definition_of(self, config: DestinationConfig) -> dict[str, Any]:
        """``definition_of(config)``, worked out once for a definition a read gave (the same
        object while its file's text stays the same): dumping it to YAML and reading it back,
        what the catalog compares with the last revision, cost as much as parsing the file.
        The data is shared: not to be changed."""
        kept = self._plain.get(id(config))
        if kept is not None and kept[0] is config:
            return kept[1]
        plain = definition_of(config)
        if any(k.outcome is config for k in self._kept.values()):
            self._plain[id(config)] = (config, plain)
        return plain

    def parsed(self, source: str) -> Any:
        """What the file ``source`` held as last read: its YAML (a mapping, or whatever else
        the text held), None when it was not read as text or held no YAML. For telling a
        refused file the rules it breaks beside those its refusal names (the version rules
        are the engine's, ``integrator.operators``), without parsing it again."""
        kept = self._kept.get(source)
        if kept is None or isinstance(kept.parsed, DestinationFileError):
            return None
        return kept.parsed

    def load(
        self, directory: Path | str
    ) -> tuple[list[tuple[str, DestinationConfig]], list[DestinationFileError]]:
        """``load_destination_files(directory)``: the same definitions and refusals, the
        files whose text is unchanged not parsed or validated again."""
        seen: set[str] = set()
        looked: dict[str, object] = {}  # each TLS file looked at once a read, however many name it

        def validate(source: str, text: str) -> DestinationConfig:
            seen.add(source)
            outcome = self._outcome(source, text, looked)
            if isinstance(outcome, DestinationFileError):
                raise outcome.with_traceback(None)  # kept: no traceback piled up per read
            return outcome

        found = load_destination_files(directory, validate=validate)
        for source in [s for s in self._kept if s not in seen]:
            del self._kept[source]  # gone, or no more read as text (a directory now, say)
        kept = {id(k.outcome) for k in self._kept.values()}
        for key in [key for key in self._plain if key not in kept]:
            del self._plain[key]
        return found

    def _outcome(self, source: str, text: str, looked: dict[str, object]) -> Outcome:
        kept = self._kept.get(source)
        if kept is not None and kept.text == text:
            parsed = kept.parsed
            files = files_named(parsed, looked)
            if files == kept.files:
                return kept.outcome
        else:
            try:
                parsed = parse_yaml(text, source)
            except DestinationFileError as refused:
                parsed = refused
            files = files_named(parsed, looked)  # before validating: a change meanwhile differs
        outcome: Outcome
        if isinstance(parsed, DestinationFileError):
            outcome = parsed
        else:
            try:
                outcome = destination_from_mapping(parsed, source=source)
            except DestinationFileError as refused:
                outcome = refused
        self._kept[source] = _Kept(text, parsed, outcome, files)
        return outcome


TLS_FILES: Final = ("ca_file", "cert_file", "key_file")
"""The keys under ``tls`` that name files, which validating a definition loads."""


def files_named(parsed: Any, looked: dict[str, object] | None = None) -> tuple[object, ...]:
    """What validating a parsed definition finds of the files it names (``file_state`` of each
    of ``TLS_FILES``), in order; empty when it names none (no ``tls``, or not a mapping: the
    definition is refused for its shape, whatever the files). ``looked``: the states found so
    far in this read, by path (many destinations name one CA, or the engine's one client
    certificate)."""
    tls = parsed.get("tls") if isinstance(parsed, Mapping) else None
    if not isinstance(tls, Mapping):
        return ()
    looked = {} if looked is None else looked
    states = []
    for key in TLS_FILES:
        value = tls.get(key)
        if not isinstance(value, str):
            states.append(file_state(value))
            continue
        if value not in looked:
            looked[value] = file_state(value)
        states.append(looked[value])
    return tuple(states)


def file_state(value: Any) -> object:
    """What the checks of a file named ``value`` depend on (``destinations.config``: an
    absolute path, a regular file, readable, and what it holds, loaded by OpenSSL): equal
    states, equal outcomes. The bytes are kept as a digest, not as they are: a private key's
    are not held by the reads."""
    if not isinstance(value, str) or not Path(value).is_absolute():
        return None  # refused, or not looked at, without the file: the text says it all
    try:
        found = os.stat(value)
    except OSError as exc:
        return ("missing", exc.errno)
    if not stat.S_ISREG(found.st_mode):
        return ("no file", stat.S_IFMT(found.st_mode))  # not opened: a pipe would block
    if not os.access(value, os.R_OK):
        return ("unreadable",)
    try:
        with open(value, "rb") as file:
            return ("holds", hashlib.sha256(file.read()).digest())
    except OSError as exc:
        return ("unopened", exc.errno)
