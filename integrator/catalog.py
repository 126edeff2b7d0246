"""The destination catalog: destination files checked against the message-version registry.

``destinations.config`` knows the file format; only the engine knows the registry, so the
version rules of product.md §3 (known version, right event type, not retired, warn when
deprecated) are checked here. A file that breaks a rule is refused whole and reported with
file, key and rule.

A refused file named ``<id>.yaml`` leaves destination ``<id>`` *broken*: it keeps running on its
last good definition (where one is known) and the tools keep showing it, with the refusal. Any
other refused file (a misnamed copy, say) is no destination's file and only reported.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    file_destination_id,
)
from integrator.refusal import Note
from mappings.registry import REGISTRY
from shapes import DATE, VERSION, Shape

# A destination's version notices (``shapes``), which the console words in the person's
# language: a version past its sunset that the definition in service still names, and a
# deprecated one. The values are the destination's id, the file's key and version names.
_ID = r"[a-z0-9-]+"
_KEY = r"messages\.[a-z_]+"
RETIRED_HELD = Shape(
    "notice.retired_held",
    "destination {id!r}: {key} uses retired message version {version!r} (sunset {sunset}); "
    "new messages are held until it moves to {successor!r}",
    id=_ID,
    key=_KEY,
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)
RETIRED_UPGRADED = Shape(
    "notice.retired_upgraded",
    "destination {id!r}: {key} uses retired message version {version!r} (sunset {sunset}); "
    "new messages are mapped with the successor until it moves to {successor!r}",
    id=_ID,
    key=_KEY,
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)
DEPRECATED = Shape(
    "notice.deprecated",
    "destination {id!r}: {key} uses deprecated message version {version!r}; sunset {sunset}, "
    "move to {successor!r}",
    id=_ID,
    key=_KEY,
    version=VERSION,
    sunset=DATE,
    successor=VERSION,
)


DIRECTORY_CODES: frozenset[str] = frozenset({"directory_missing", "directory_not_a_directory"})
"""Refusal codes that are about the destinations directory, not about a file in it. (A
directory that cannot be listed raises ``DirectoryUnusable`` instead.)"""


@dataclass(frozen=True)
class Broken:
    """Why a destination's own file is refused, and which recorded definition it runs on."""

    file: str
    problems: tuple[DestinationFileError, ...]  # every mistake in the file, the first first
    revision: int | None = None  # the revision it runs on; None: no good definition is known

    @property
    def problem(self) -> DestinationFileError:
        return self.problems[0]


@dataclass(frozen=True)
class Catalog:
    destinations: dict[str, DestinationConfig] = field(default_factory=dict)
    errors: tuple[DestinationFileError, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)  # destination id -> file
    broken: dict[str, Broken] = field(default_factory=dict)  # destination id -> its refusal
    # destination id -> the recorded revision its file says the same as (none for a hand edit
    # not recorded yet); a broken one's is ``Broken.revision``
    revisions: dict[str, int] = field(default_factory=dict)
    # destination id -> the cluster of its last recorded definition (None: it had none), for
    # every destination with a history that no definition in service defines: removed, or its
    # file deleted by hand. Its messages stay in the store and lie in that cluster
    # (``integrator.clusters``); read from the store, so empty for a catalog built from files.
    removed: dict[str, str | None] = field(default_factory=dict)

    @property
    def providers(self) -> frozenset[str]:
        """Every provider id a destination in service serves: ids an operator wrote."""
        return frozenset(p for d in self.destinations.values() for p in d.providers)

    @property
    def delivering(self) -> frozenset[str]:
        """The ids of the destinations in service and not paused: those a queue is consumed
        for. The recovery leader re-publishes only their waiting messages; a paused one's are
        re-published when it is resumed (``Engine._republishes_on_start``)."""
        return frozenset(d.id for d in self.destinations.values() if d.enabled)

    def serving(self, provider_id: str) -> list[DestinationConfig]:
        """Destinations that receive events of this intake ``provider.id``."""
        return [d for d in self.destinations.values() if provider_id in d.providers]

    @property
    def directory_problem(self) -> DestinationFileError | None:
        """The refusal of the destinations directory itself (gone, or no directory), if any.

        Such a read says nothing about any destination's file: it holds no destination at all,
        and taking that for "every file was deleted" would take every destination out of
        service because a volume was not mounted (``keep_last_good``).
        """
        for error in self.errors:
            if error.code in DIRECTORY_CODES:
                return error
        return None

    @property
    def stray_errors(self) -> tuple[DestinationFileError, ...]:
        """Refusals of files that are no destination's own file (a copy, a wrong name)."""
        return tuple(e for e in self.errors if file_destination_id(e.file) not in self.broken)

    @property
    def stray_files(self) -> dict[str, tuple[DestinationFileError, ...]]:
        """The files of ``stray_errors``, each with its problems (the first first); the
        directory itself missing is no file."""
        grouped: dict[str, tuple[DestinationFileError, ...]] = {}
        for error in self.stray_errors:
            if error.code not in DIRECTORY_CODES:
                grouped[error.file] = (*grouped.get(error.file, ()), error)
        return grouped


def shared_providers(
    config: DestinationConfig,
    catalog: Catalog,
    *,
    shown: Callable[[DestinationConfig], bool] = lambda _: True,
) -> list[Note]:
    """A warning per provider of ``config`` that another destination in service serves too.

    Sending one provider's events to several destinations is allowed (a hospital and its lab,
    say), so this never refuses; but a destination file copied to a new id with its
    ``providers`` left as they were sends every event of those providers twice, unseen. The
    warning names the others, so whoever made the change sees it; each is a ``Note`` (code
    ``destination.provider_shared``), which the console words in the person's language.

    ``shown``: which other destinations the reader may be told of. Someone held to some
    clusters is told only of those in their clusters (docs/access.md: outside them nothing is
    shown), and of a provider only others outside them serve, nothing.
    """
    warnings: list[Note] = []
    for provider in config.providers:
        others = sorted(d.id for d in catalog.serving(provider) if d.id != config.id and shown(d))
        if others:
            named = ", ".join(repr(o) for o in others)
            warnings.append(
                Note(
                    f"destination {config.id!r}: provider {provider!r} is also served by "
                    f"{named}; each of its events goes to all of them (if this destination "
                    "is a copy, change its providers)",
                    "destination.provider_shared",
                    id=config.id,
                    provider=provider,
                    others=others,
                )
            )
    return warnings


def shared_provider_notes(
    catalog: Catalog, destination_ids: Collection[str] | None = None
) -> list[Note]:
    """``shared_providers`` of each destination in service (of ``destination_ids`` only, when
    given), by id: what the engine logs of a hand edit and ``destinations list`` names, in the
    words a change through the CLI or the API is warned with."""
    return [
        note
        for dest_id, config in catalog.destinations.items()
        if destination_ids is None or dest_id in destination_ids
        for note in shared_providers(config, catalog)
    ]


VersionState = Literal["deprecated", "retired"]


def version_notice(warning: str) -> tuple[str, VersionState] | None:
    """The destination a version notice of ``Catalog.warnings`` is about, and whether the
    version it names is deprecated or retired, if it is one: a retired version is no deprecated
    one (its messages are held or mapped with the successor), and the log says which."""
    notices: tuple[tuple[Shape, VersionState], ...] = (
        (DEPRECATED, "deprecated"),
        (RETIRED_HELD, "retired"),
        (RETIRED_UPGRADED, "retired"),
    )
    for shape, state in notices:
        values = shape.read(warning)
        if values is not None:
            return values["id"], state
    return None


def refusals_by_destination(
    errors: Iterable[DestinationFileError],
) -> dict[str, tuple[str, tuple[DestinationFileError, ...]]]:
    """The refused files that are a destination's own (``<id>.yaml``): id -> (file, problems)."""
    grouped: dict[str, tuple[str, tuple[DestinationFileError, ...]]] = {}
    for error in errors:
        dest_id = file_destination_id(error.file)
        if dest_id is None:
            continue
        file, problems = grouped.get(dest_id, (error.file, ()))
        grouped[dest_id] = (file, (*problems, error))
    return grouped


def version_warnings(
    config: DestinationConfig,
    *,
    today: date,
    source: str,
    in_service: bool | Mapping[str, str] = False,
) -> list[str]:
    """Check the destination's message versions; raise for a rule broken, return warnings.

    ``in_service``: its message versions are those already running (its last recorded
    revision's; its other keys may be edited, a pause say). They may have passed their sunset
    since; that is not "switching to a retired version", so it loads, and its new messages are
    held or auto-upgraded (product.md §3). ``True``: all of them; a mapping: the versions in
    service by event type (the last revision's ``messages``), so each event type is judged on
    its own. Moving referrals to a supported version must not be refused because the lab
    orders stay on one retired since: only a retired version an event type newly takes is.
    Every event type's broken rule is raised at once (``DestinationFileError.problems``).
    """
    problems = version_problems(config.messages, today=today, source=source, in_service=in_service)
    if problems:
        first = problems[0]
        first.problems = tuple(problems)
        raise first
    warnings: list[str] = []
    for event_type, name in config.messages.items():
        key = f"messages.{event_type}"
        version = REGISTRY[name]
        status = version.status_on(today)
        if status == "retired":  # kept in service: version_problems let it through
            retired = RETIRED_UPGRADED if config.auto_upgrade else RETIRED_HELD
            warnings.append(
                retired(
                    id=config.id,
                    key=key,
                    version=name,
                    sunset=version.sunset,
                    successor=version.successor,
                )
            )
        elif status == "deprecated":
            warnings.append(
                DEPRECATED(
                    id=config.id,
                    key=key,
                    version=name,
                    sunset=version.sunset,
                    successor=version.successor,
                )
            )
    return warnings


def version_problems(
    messages: Mapping[Any, object],
    *,
    today: date,
    source: str,
    in_service: bool | Mapping[str, str] = False,
) -> list[DestinationFileError]:
    """The version rules each event type's version in ``messages`` breaks, one problem per
    event type (``version_warnings`` says what ``in_service`` holds).

    Apart from ``version_warnings`` so that a definition the file's own rules refuse is told
    its version problems in the same answer (``operators``): an operator mending a form met a
    retired version only once every other key was right, one refusal per save. ``messages``
    may be a definition's as it was sent; an event type or a name that is no text is the file
    rules' to refuse, and left out here."""
    problems: list[DestinationFileError] = []
    for event_type, name in messages.items():
        if not isinstance(event_type, str) or not isinstance(name, str):
            continue
        key = f"messages.{event_type}"
        version = REGISTRY.get(name)
        if version is None:
            known = ", ".join(
                sorted(v.name for v in REGISTRY.values() if v.event_type == event_type)
            )
            problems.append(
                DestinationFileError(
                    source,
                    key,
                    f"unknown message version {name!r} (known: {known})",
                    code="version_unknown",
                    values={"version": name, "known": known},
                )
            )
        elif version.event_type != event_type:
            problems.append(
                DestinationFileError(
                    source,
                    key,
                    f"message version {name!r} is for {version.event_type} events",
                    code="version_event_type",
                    values={"version": name, "event_type": version.event_type},
                )
            )
        elif version.status_on(today) == "retired" and not _kept(in_service, event_type, name):
            problems.append(
                DestinationFileError(
                    source,
                    key,
                    f"message version {name!r} is retired; use its successor {version.successor!r}",
                    code="version_retired",
                    values={"version": name, "successor": version.successor},
                )
            )
    return problems


def _kept(in_service: bool | Mapping[str, str], event_type: str, name: str) -> bool:
    """Whether ``event_type``'s version ``name`` is one already in service (``version_warnings``
    says what ``in_service`` holds)."""
    if isinstance(in_service, bool):
        return in_service
    return in_service.get(event_type) == name


def _serving(
    in_service: Collection[str] | Mapping[str, Mapping[str, str]], destination_id: str
) -> bool | Mapping[str, str]:
    """``build_catalog``'s ``in_service`` for one destination, as ``version_warnings`` takes it."""
    if isinstance(in_service, Mapping):
        return in_service.get(destination_id, False)
    return destination_id in in_service


def build_catalog(
    configs: Iterable[tuple[str, DestinationConfig]],
    *,
    today: date,
    errors: Iterable[DestinationFileError] = (),
    in_service: Collection[str] | Mapping[str, Mapping[str, str]] = (),
) -> Catalog:
    """The catalog of ``configs``; ``in_service``: the ids whose versions are all in service,
    or by id the versions in service (``version_warnings``), which a hand edit keeps."""
    accepted: dict[str, DestinationConfig] = {}
    sources: dict[str, str] = {}
    problems = list(errors)
    warnings: list[str] = []
    for source, config in configs:
        try:
            warnings.extend(
                version_warnings(
                    config, today=today, source=source, in_service=_serving(in_service, config.id)
                )
            )
        except DestinationFileError as exc:
            # Every version rule the file breaks (one per event type), as a change is told
            # them: the first alone left the next to be found once it was mended.
            problems.extend(exc.problems)
            continue
        accepted[config.id] = config
        sources[config.id] = source
    return Catalog(accepted, tuple(problems), tuple(warnings), sources)


def keep_last_good(new: Catalog, old: Catalog) -> Catalog:
    """A refused file does not take its destination away: the last good definition stays.

    product.md §5.1: a file with a mistake is refused whole and the engine keeps running on the
    last good definition. ``new`` normally has it already (from the store's revisions); this
    keeps the one in memory when the store could not give one. A file that was removed does
    remove its destination.

    A read of a directory that is not there (a volume not mounted, a deploy swapping it) says
    nothing about any file: ``old`` stays as it is, whole, until the directory is back.
    """
    if new.directory_problem is not None:
        return old
    refused_files = {error.file for error in new.errors}
    destinations = dict(new.destinations)
    sources = dict(new.sources)
    for dest_id, config in old.destinations.items():
        source = old.sources.get(dest_id)
        if dest_id not in destinations and source in refused_files:
            destinations[dest_id] = config
            sources[dest_id] = source or ""
    removed = {k: v for k, v in new.removed.items() if k not in destinations}
    return Catalog(
        destinations, new.errors, new.warnings, sources, new.broken, new.revisions, removed
    )
