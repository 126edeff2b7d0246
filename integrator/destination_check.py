"""Destination files checked as the engine would read them, changing nothing
(``integrator destinations check``).

An operator's CI has no engine and no store: it can still hold files to every rule the engine
holds a file in the destinations directory to, and name every mistake at once, before a
deploy. What needs the store (a removed destination's id, a retired version already in
service, a cluster nobody holds) is said to be skipped, and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    destination_from_mapping,
    directory_problem,
    load_destination_files,
    name_refusal,
    parse_yaml,
    read_destination_text,
)
from destinations.ids import is_destination_id
from integrator.catalog import Catalog, refusals_by_destination, shared_providers, version_warnings
from integrator.operators import problem_view, version_problems_beside


@dataclass(frozen=True)
class FileVerdict:
    """What the engine would make of one destination file (``check_destination_files``)."""

    file: str
    destination_id: str | None  # the id it names, where it names one of an id's form
    problems: tuple[DestinationFileError, ...]  # every mistake, the first first; none: accepted
    warnings: tuple[str, ...]  # what a change or the engine's log would warn of (a version…)
    replaces: str | None = None  # the directory's file of that id, when it is another file
    new: bool = False  # no destination of that id in the directory (nor given before)

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "id": self.destination_id,
            "verdict": "refused" if self.refused else "accepted",
            "problems": [problem_view(p) for p in self.problems],
            "warnings": list(self.warnings),
            "replaces": self.replaces,
            "new": self.new,
        }


@dataclass(frozen=True)
class SkippedCheck:
    """A check the engine makes that a check of files cannot: ``check`` names it, ``why`` says
    what it needs and what the engine does."""

    check: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "why": self.why}


@dataclass(frozen=True)
class FilesChecked:
    """Every file's verdict, the directory they were compared with, and the checks skipped."""

    files: tuple[FileVerdict, ...]
    directory: str
    skipped: tuple[SkippedCheck, ...]

    @property
    def refused(self) -> bool:
        return any(verdict.refused for verdict in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [verdict.to_json() for verdict in self.files],
            "directory": self.directory,
            "skipped": [skipped.to_json() for skipped in self.skipped],
        }


SKIPPED_REMOVED = SkippedCheck(
    "removed_destination",
    "whether an id is that of a destination removed from another cluster needs the store's "
    "history; the engine refuses such a file (the removed destination's messages stay in its "
    "cluster)",
)
SKIPPED_RETIRED = SkippedCheck(
    "retired_in_service",
    "a retired version is refused here as for a new destination; whether the destination runs "
    "on it already needs the store's history, and the engine keeps one it runs on in service "
    "(its new messages held, or mapped with the successor with auto_upgrade)",
)
SKIPPED_CLUSTER = SkippedCheck(
    "cluster_held",
    "whether anyone holds a grant for a cluster no destination in the directory is in needs "
    "the store's people and tokens; a change through the CLI or the API warns of a cluster "
    "nobody holds",
)


def check_destination_files(paths: Sequence[Path], *, directory: Path, today: date) -> FilesChecked:
    """Each file in ``paths`` read as the engine reads a file in ``directory`` (the configured
    destinations directory), changing nothing: no store is opened, no file written, nothing
    audited, so an operator's CI (no engine, no store) can check files before a deploy.

    The same rules, every mistake of a file at once: its keys and values, its message versions
    (a deprecated one warned of, a retired one refused), the TLS files it names there and
    loadable, its cluster's name, its name (``<id>.yaml``, and not the name of another
    destination's file in ``directory``), and its id not that of another file given. Sharing a
    provider with a destination in ``directory`` or another file is warned of, as a change is.
    What needs the store is said to be skipped (``FilesChecked.skipped``)."""
    in_directory, unusable = _directory_destinations(directory)
    verdicts: list[FileVerdict] = []
    first_of: dict[str, Path] = {}  # id -> the first file given that names it
    for path in paths:
        verdict, config = _file_verdict(path, directory, today)
        verdicts.append(
            _with_own_id(verdict, path, first_of, in_directory.get(verdict.destination_id or ""))
        )
        if config is not None and not verdicts[-1].refused:
            in_directory[config.id] = (in_directory.get(config.id, ("", None))[0], config)
    verdicts = [_with_shared_providers(v, in_directory) for v in verdicts]
    return FilesChecked(
        tuple(verdicts), str(directory), _skipped(verdicts, in_directory, unusable, directory)
    )


def _directory_destinations(
    directory: Path,
) -> tuple[dict[str, tuple[str, DestinationConfig | None]], str | None]:
    """The destinations ``directory`` defines, by id: the file and the definition (None for a
    refused own file, which holds its id all the same); and why it could not be read, if it
    could not (gone, no directory, not listable: nothing is compared with it then)."""
    gone = directory_problem(directory)
    if gone is not None:
        return {}, gone.rule
    try:
        loaded, errors = load_destination_files(directory)
    except OSError as exc:
        return {}, f"cannot be read ({exc.strerror or type(exc).__name__})"
    found: dict[str, tuple[str, DestinationConfig | None]] = {
        dest_id: (file, None) for dest_id, (file, _) in refusals_by_destination(errors).items()
    }
    found.update({config.id: (file, config) for file, config in loaded})
    return found, None


def _file_verdict(
    path: Path, directory: Path, today: date
) -> tuple[FileVerdict, DestinationConfig | None]:
    """One file's verdict by its own text and name, and its definition if the rules pass."""
    source = str(path)
    try:
        source, text = read_destination_text(path)
        definition = parse_yaml(text, source)
    except DestinationFileError as refused:
        return FileVerdict(source, None, refused.problems, ()), None
    config: DestinationConfig | None = None
    warnings: list[str] = []
    try:
        config = destination_from_mapping(definition, source=source)
        warnings = version_warnings(config, today=today, source=source)
        problems: list[DestinationFileError] = []
    except DestinationFileError as refused:
        problems = list(refused.problems)
        problems += version_problems_beside(
            problems, definition, source=source, in_service={}, today=today
        )
    dest_id = config.id if config is not None else _id_named(definition)
    if dest_id is not None:
        misnamed = name_refusal(path, dest_id, directory)
        problems += [misnamed] if misnamed is not None else []
        if misnamed is not None and misnamed.code == "file_misnamed":
            # Refused as the engine refuses it copied there by hand; but the operator who means
            # to add it (docs/deploy.md's first destination, from /tmp/first.yaml) may.
            warnings.append(
                f"integrator destinations add {path} takes it under any name: it writes the "
                f"destination's own file, {directory / f'{dest_id}.yaml'}"
            )
    verdict = FileVerdict(source, dest_id, tuple(problems), tuple(warnings))
    return verdict, config if not problems else None


def _id_named(definition: object) -> str | None:
    """The id a refused definition names, where it is of an id's form: its file's name and
    its id among the others are told too."""
    named = definition.get("id") if isinstance(definition, Mapping) else None
    return named if isinstance(named, str) and is_destination_id(named) else None


def _with_own_id(
    verdict: FileVerdict,
    path: Path,
    first_of: dict[str, Path],
    there: tuple[str, DestinationConfig | None] | None,
) -> FileVerdict:
    """``verdict`` with what the directory holds of its id: the file it would replace (or
    ``new``); and refused too when a file given before, named ``<id>.yaml`` as this one is,
    names the same id (one id has one file). A file otherwise named is refused for its name
    already, and is no destination's file."""
    dest_id = verdict.destination_id
    if dest_id is None:
        return verdict
    placed = dataclasses.replace(verdict, new=there is None)
    if there is not None and there[0] and Path(there[0]).resolve() != path.resolve():
        placed = dataclasses.replace(placed, replaces=there[0])
    if path.name != f"{dest_id}.yaml":
        return placed
    first = first_of.setdefault(dest_id, path)
    if first.resolve() == path.resolve():
        return placed
    twice = DestinationFileError(
        verdict.file,
        "id",
        f"{dest_id!r} is the id of {first} too, checked with it; one id has one file "
        "(<id>.yaml), so this file is refused (give it its own id and name, or leave one out)",
        code="id_twice",
        values={"id": dest_id, "file": str(first)},
    )
    return dataclasses.replace(placed, problems=(*placed.problems, twice))


def _with_shared_providers(
    verdict: FileVerdict, destinations: Mapping[str, tuple[str, DestinationConfig | None]]
) -> FileVerdict:
    """``verdict`` with a warning per provider that another destination serves too (the
    directory's, or another file's accepted here), as a change is warned."""
    if verdict.refused or verdict.destination_id is None:
        return verdict
    configs = {k: c for k, (_, c) in destinations.items() if c is not None}
    config = configs.get(verdict.destination_id)
    if config is None:
        return verdict
    notes = shared_providers(config, Catalog(configs))
    return dataclasses.replace(verdict, warnings=(*verdict.warnings, *map(str, notes)))


def _skipped(
    verdicts: Sequence[FileVerdict],
    destinations: Mapping[str, tuple[str, DestinationConfig | None]],
    unusable: str | None,
    directory: Path,
) -> tuple[SkippedCheck, ...]:
    """What this check could not look at: the store's history and grants, and the directory
    when it could not be read."""
    skipped = [SKIPPED_REMOVED]
    if any(p.code == "version_retired" for v in verdicts for p in v.problems):
        skipped.append(SKIPPED_RETIRED)
    given = {v.destination_id for v in verdicts}
    in_use = {c.cluster for k, (_, c) in destinations.items() if c is not None and k not in given}
    if any(
        c is not None and c.cluster is not None and c.cluster not in in_use
        for k, (_, c) in destinations.items()
        if k in given
    ):
        skipped.append(SKIPPED_CLUSTER)
    if unusable is not None:
        skipped.append(
            SkippedCheck(
                "destinations_directory",
                "ids and providers are not compared with the destinations directory: "
                f"{directory} (INTEGRATOR_DESTINATIONS_DIR) {unusable}",
            )
        )
    return tuple(skipped)
